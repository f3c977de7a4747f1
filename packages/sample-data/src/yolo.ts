import type { CommonOptions, DatasetEntry, SampleDataset } from './dataset.ts';
import { imageName, requireInteger, resolveCommonOptions, SPLITS } from './dataset.ts';
import { encodePng } from './png.ts';
import type { Random } from './random.ts';
import { createRandom } from './random.ts';
import type { DrawnShape, Shape } from './scene.ts';
import { randomShapeSize, renderScene } from './scene.ts';

export interface YoloOptions extends CommonOptions {
  /** Images in the train split. Default 30. */
  trainImages?: number;
  /** Images in the val split. Default 10. */
  valImages?: number;
  /** At most this many objects per image (at least 1), 1 to 10. Default 3. */
  maxObjects?: number;
  /**
   * Each object's width and height, as fractions of the image side: drawn uniformly from [min, max]. Default 0.15 to
   * 0.35; larger objects make a detector trained from scratch learn in fewer epochs.
   */
  objectSize?: { min: number; max: number };
}

const PLACEMENT_ATTEMPTS = 30;

/**
 * A YOLO detection dataset: data.yaml, images/{train,val}/*.png and labels/{train,val}/*.txt with one
 * `class xc yc w h` line per object, normalised to [0, 1] and exactly bounding the drawn pixels.
 */
export function generateYolo(options: YoloOptions = {}): SampleDataset {
  const { seed, imageSize, classes } = resolveCommonOptions(options);
  const counts = {
    train: requireInteger('trainImages', options.trainImages ?? 30, 0, 100_000),
    val: requireInteger('valImages', options.valImages ?? 10, 0, 100_000),
  };
  const maxObjects = requireInteger('maxObjects', options.maxObjects ?? 3, 1, 10);
  const objectPixels = resolveObjectSize(options.objectSize ?? { min: 0.15, max: 0.35 }, imageSize);
  const random = createRandom(seed);
  const entries: DatasetEntry[] = [
    { path: 'data.yaml', data: Buffer.from(dataYaml(classes.map((c) => c.name))) },
  ];

  for (const split of SPLITS) {
    for (let index = 0; index < counts[split]; index++) {
      const shapes = placeShapes(imageSize, classes.length, maxObjects, objectPixels, random);
      const { image, drawn } = renderScene(imageSize, shapes, classes, random);
      const name = imageName(split, index);
      entries.push({ path: `images/${split}/${name}`, data: encodePng(image) });
      entries.push({
        path: `labels/${split}/${name.replace(/\.png$/, '.txt')}`,
        data: Buffer.from(labelLines(drawn, imageSize)),
      });
    }
  }
  return { format: 'yolo', classNames: classes.map((c) => c.name), imageCounts: counts, entries };
}

/** Relative train/val paths and no `path` key, so the trainer resolves them against the file's own folder. */
function dataYaml(classNames: readonly string[]): string {
  return ['train: images/train', 'val: images/val', 'names:', ...classNames.map((n) => `  - ${n}`), ''].join(
    '\n',
  );
}

function labelLines(drawn: readonly DrawnShape[], imageSize: number): string {
  return drawn
    .map(({ shape, box }) => {
      const values = [
        (box.x + box.width / 2) / imageSize,
        (box.y + box.height / 2) / imageSize,
        box.width / imageSize,
        box.height / imageSize,
      ];
      return [shape.classIndex, ...values.map((v) => v.toFixed(6))].join(' ');
    })
    .join('\n')
    .concat('\n');
}

/** Fractions of the image side to whole pixels; a shape needs at least 2 pixels and must fit the image. */
function resolveObjectSize(
  { min, max }: { min: number; max: number },
  imageSize: number,
): { min: number; max: number } {
  if (!(min > 0 && min <= max && max <= 0.9)) {
    throw new RangeError(`objectSize must have 0 < min <= max <= 0.9, got min ${min}, max ${max}`);
  }
  return { min: Math.max(2, Math.round(imageSize * min)), max: Math.max(2, Math.round(imageSize * max)) };
}

/**
 * 1 to `maxObjects` shapes whose boxes keep a pixel apart, so no shape hides part of another and every box stays
 * exact. A shape that finds no free place is left out, so crowded settings yield fewer objects than asked.
 */
function placeShapes(
  imageSize: number,
  classCount: number,
  maxObjects: number,
  size: { min: number; max: number },
  random: Random,
): Shape[] {
  const wanted = random.int(1, maxObjects);
  const { min: minSize, max: maxSize } = size;
  const shapes: Shape[] = [];
  for (let n = 0; n < wanted; n++) {
    const classIndex = random.int(0, classCount - 1);
    const { kind, width, height } = randomShapeSize(random, minSize, maxSize);
    for (let attempt = 0; attempt < PLACEMENT_ATTEMPTS; attempt++) {
      const candidate: Shape = {
        kind,
        classIndex,
        width,
        height,
        x: random.int(0, imageSize - width),
        y: random.int(0, imageSize - height),
      };
      if (shapes.every((placed) => apart(placed, candidate))) {
        shapes.push(candidate);
        break;
      }
    }
  }
  return shapes;
}

function apart(a: Shape, b: Shape): boolean {
  return a.x + a.width < b.x || b.x + b.width < a.x || a.y + a.height < b.y || b.y + b.height < a.y;
}
