import { describe, expect, it } from 'vitest';
import { readPng } from '../test/readPng.ts';
import type { Rgb, RgbImage } from './png.ts';
import { getPixel } from './png.ts';
import { CLASS_PALETTE } from './scene.ts';
import { generateYolo } from './yolo.ts';

const dataset = generateYolo({ seed: 11, trainImages: 12, valImages: 4, classes: 4 });
const byPath = new Map(dataset.entries.map((e) => [e.path, e.data]));

function countColour(image: RgbImage, colour: Rgb, xs: number[], ys: number[]): number {
  let n = 0;
  for (const y of ys) for (const x of xs) if (getPixel(image, x, y).join() === colour.join()) n++;
  return n;
}
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

describe('generateYolo', () => {
  it('writes a data.yaml with relative splits, the class names, and no path or download key', () => {
    expect(byPath.get('data.yaml')?.toString()).toBe(
      'train: images/train\nval: images/val\nnames:\n  - red\n  - green\n  - blue\n  - yellow\n',
    );
    expect(dataset.classNames).toEqual(['red', 'green', 'blue', 'yellow']);
    expect(dataset.imageCounts).toEqual({ train: 12, val: 4 });
  });

  it('pairs every image with a label file, per split', () => {
    for (const [split, count] of [
      ['train', 12],
      ['val', 4],
    ] as const) {
      const images = dataset.entries.filter((e) => e.path.startsWith(`images/${split}/`));
      expect(images).toHaveLength(count);
      for (const image of images) {
        expect(byPath.has(image.path.replace('images/', 'labels/').replace('.png', '.txt'))).toBe(true);
      }
    }
    expect(dataset.entries).toHaveLength(1 + 2 * 16);
  });

  it('labels 1-3 objects per image with normalised boxes that tightly enclose pixels of their class colour', () => {
    const classesSeen = new Set<number>();
    for (const label of dataset.entries.filter((e) => e.path.startsWith('labels/'))) {
      const image = readPng(
        byPath.get(label.path.replace('labels/', 'images/').replace('.txt', '.png')) ?? Buffer.alloc(0),
      );
      expect([image.width, image.height]).toEqual([64, 64]);
      const lines = label.data.toString().trimEnd().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(3);
      for (const line of lines) {
        const [cls = -1, xc = -1, yc = -1, w = -1, h = -1] = line.split(' ').map(Number);
        expect(Number.isInteger(cls) && cls >= 0 && cls < 4).toBe(true);
        classesSeen.add(cls);
        for (const v of [xc, yc, w, h]) expect(v >= 0 && v <= 1).toBe(true);
        const colour = CLASS_PALETTE[cls]?.color ?? [-1, -1, -1];
        expect(getPixel(image, Math.floor(xc * 64), Math.floor(yc * 64))).toEqual(colour);

        // Back to pixel bounds [x0, x1) x [y0, y1): each edge row/column holds the colour, the one outside none.
        const x0 = Math.round((xc - w / 2) * 64);
        const x1 = Math.round((xc + w / 2) * 64);
        const y0 = Math.round((yc - h / 2) * 64);
        const y1 = Math.round((yc + h / 2) * 64);
        expect(x0 >= 0 && y0 >= 0 && x1 <= 64 && y1 <= 64).toBe(true);
        const cols = range(x0, x1);
        const rows = range(y0, y1);
        expect(countColour(image, colour, cols, [y0])).toBeGreaterThan(0);
        expect(countColour(image, colour, cols, [y1 - 1])).toBeGreaterThan(0);
        expect(countColour(image, colour, [x0], rows)).toBeGreaterThan(0);
        expect(countColour(image, colour, [x1 - 1], rows)).toBeGreaterThan(0);
        expect(
          countColour(
            image,
            colour,
            cols,
            [y0 - 1, y1].filter((y) => y >= 0 && y < 64),
          ),
        ).toBe(0);
        expect(
          countColour(
            image,
            colour,
            [x0 - 1, x1].filter((x) => x >= 0 && x < 64),
            rows,
          ),
        ).toBe(0);
      }
    }
    expect(classesSeen.size).toBe(4);
  });

  it('gives identical bytes for the same seed and different images for another seed', () => {
    const again = generateYolo({ seed: 11, trainImages: 12, valImages: 4, classes: 4 });
    expect(again.entries.map((e) => e.path)).toEqual(dataset.entries.map((e) => e.path));
    expect(again.entries.every((e, i) => e.data.equals(dataset.entries[i]?.data ?? Buffer.alloc(0)))).toBe(
      true,
    );
    const other = generateYolo({ seed: 12, trainImages: 12, valImages: 4, classes: 4 });
    expect(other.entries[1]?.data.equals(dataset.entries[1]?.data ?? Buffer.alloc(0))).toBe(false);
  });

  it('keeps to maxObjects and objectSize, and never repeats a train image in val', () => {
    const size = 96;
    const big = generateYolo({
      seed: 3,
      imageSize: size,
      trainImages: 20,
      valImages: 10,
      maxObjects: 2,
      objectSize: { min: 0.3, max: 0.45 },
    });
    const counts = new Set<number>();
    for (const label of big.entries.filter((e) => e.path.startsWith('labels/'))) {
      const lines = label.data.toString().trimEnd().split('\n');
      counts.add(lines.length);
      for (const line of lines) {
        const [, , , w = 0, h = 0] = line.split(' ').map(Number);
        for (const side of [w, h]) {
          expect(Math.round(side * size)).toBeGreaterThanOrEqual(Math.round(0.3 * size));
          expect(Math.round(side * size)).toBeLessThanOrEqual(Math.round(0.45 * size));
        }
      }
    }
    expect([...counts].sort()).toEqual([1, 2]);
    const trainImages = big.entries.filter((e) => e.path.startsWith('images/train/')).map((e) => e.data);
    for (const val of big.entries.filter((e) => e.path.startsWith('images/val/')))
      expect(trainImages.some((t) => t.equals(val.data))).toBe(false);
  });

  it('names the option at fault', () => {
    expect(() => generateYolo({ classes: 9 })).toThrow(/^classes must be an integer from 1 to 8, got 9$/);
    expect(() => generateYolo({ imageSize: 16 })).toThrow(/imageSize/);
    expect(() => generateYolo({ trainImages: 1.5 })).toThrow(/trainImages/);
    expect(() => generateYolo({ seed: -1 })).toThrow(/seed/);
    expect(() => generateYolo({ maxObjects: 0 })).toThrow(
      /^maxObjects must be an integer from 1 to 10, got 0$/,
    );
    expect(() => generateYolo({ objectSize: { min: 0.5, max: 0.2 } })).toThrow(/^objectSize must have/);
    expect(() => generateYolo({ objectSize: { min: 0.1, max: 0.95 } })).toThrow(/objectSize/);
  });
});
