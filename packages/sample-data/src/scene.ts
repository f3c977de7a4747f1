import type { Rgb, RgbImage } from './png.ts';
import { createImage, setPixel } from './png.ts';
import type { Random } from './random.ts';

export interface ClassStyle {
  name: string;
  color: Rgb;
}

/**
 * Class colours, in the order classes are handed out. Each has a channel below 45 or above 185, outside the
 * background's range, so no background pixel can ever equal a class colour (tests rely on this).
 */
export const CLASS_PALETTE: readonly ClassStyle[] = [
  { name: 'red', color: [220, 30, 30] },
  { name: 'green', color: [30, 180, 50] },
  { name: 'blue', color: [30, 70, 230] },
  { name: 'yellow', color: [240, 220, 30] },
  { name: 'magenta', color: [220, 40, 210] },
  { name: 'cyan', color: [30, 210, 220] },
  { name: 'white', color: [250, 250, 250] },
  { name: 'black', color: [10, 10, 10] },
];

export type ShapeKind = 'rectangle' | 'circle';

/** A shape to draw, given by its bounding box in pixels; a circle's box is square. */
export interface Shape {
  kind: ShapeKind;
  classIndex: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixel bounds of what was actually painted: columns [x, x + width), rows [y, y + height). */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A shape and the exact pixel box it covered once drawn. */
export interface DrawnShape {
  shape: Shape;
  box: PixelBox;
}

/** Draws a noisy background and then the shapes, in order, with their class colours. */
export function renderScene(
  size: number,
  shapes: readonly Shape[],
  classes: readonly ClassStyle[],
  random: Random,
): { image: RgbImage; drawn: DrawnShape[] } {
  const image = createImage(size, size);
  paintNoisyBackground(image, random);
  const drawn = shapes.map((shape) => {
    const style = classes[shape.classIndex];
    if (!style) throw new RangeError(`renderScene: no class at index ${shape.classIndex}`);
    return { shape, box: drawShape(image, shape, style.color) };
  });
  return { image, drawn };
}

/** A random kind and size for a shape; the caller decides where it goes. */
export function randomShapeSize(
  random: Random,
  minSize: number,
  maxSize: number,
): { kind: ShapeKind; width: number; height: number } {
  const kind: ShapeKind = random.next() < 0.5 ? 'rectangle' : 'circle';
  const width = random.int(minSize, maxSize);
  const height = kind === 'circle' ? width : random.int(minSize, maxSize);
  return { kind, width, height };
}

/** A greyish per-image tone with per-pixel noise, so shapes sit on texture rather than a flat colour. */
function paintNoisyBackground(image: RgbImage, random: Random): void {
  const grey = random.int(80, 150);
  const tone: Rgb = [grey + random.int(-10, 10), grey + random.int(-10, 10), grey + random.int(-10, 10)];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      setPixel(image, x, y, [
        tone[0] + random.int(-25, 25),
        tone[1] + random.int(-25, 25),
        tone[2] + random.int(-25, 25),
      ]);
    }
  }
}

/** Paints the shape and returns the bounds of the pixels it set, which become the label box. */
function drawShape(image: RgbImage, shape: Shape, color: Rgb): PixelBox {
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  const centreX = shape.x + shape.width / 2;
  const centreY = shape.y + shape.height / 2;
  const radius = shape.width / 2;
  for (let y = shape.y; y < shape.y + shape.height; y++) {
    for (let x = shape.x; x < shape.x + shape.width; x++) {
      if (x < 0 || y < 0 || x >= image.width || y >= image.height) continue;
      // A circle covers the pixels whose centres lie inside it.
      if (shape.kind === 'circle' && (x + 0.5 - centreX) ** 2 + (y + 0.5 - centreY) ** 2 > radius ** 2)
        continue;
      setPixel(image, x, y, color);
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    }
  }
  if (maxX < minX) throw new RangeError(`drawShape: shape at (${shape.x}, ${shape.y}) covers no pixel`);
  return { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}
