import { describe, expect, it } from 'vitest';
import { readPng } from '../test/readPng.ts';
import { generateImagefolder } from './imagefolder.ts';
import { getPixel } from './png.ts';
import { CLASS_PALETTE } from './scene.ts';

describe('generateImagefolder', () => {
  const dataset = generateImagefolder({ seed: 5, imageSize: 48, trainPerClass: 4, valPerClass: 2 });

  it('lays out split/class/image.png with the requested counts per class', () => {
    expect(dataset.classNames).toEqual(['red', 'green', 'blue']);
    expect(dataset.imageCounts).toEqual({ train: 12, val: 6 });
    const perFolder = new Map<string, number>();
    for (const { path } of dataset.entries) {
      expect(path).toMatch(/^(train|val)\/(red|green|blue)\/\2_\d{4}\.png$/);
      const folder = path.slice(0, path.lastIndexOf('/'));
      perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
    }
    expect(Object.fromEntries(perFolder)).toEqual({
      'train/red': 4,
      'train/green': 4,
      'train/blue': 4,
      'val/red': 2,
      'val/green': 2,
      'val/blue': 2,
    });
  });

  it('draws each image at the requested size with its class colour at the centre', () => {
    for (const { path, data } of dataset.entries) {
      const className = path.split('/')[1];
      const image = readPng(data);
      expect([image.width, image.height]).toEqual([48, 48]);
      expect(getPixel(image, 24, 24)).toEqual(CLASS_PALETTE.find((c) => c.name === className)?.color);
    }
  });

  it('is deterministic per seed', () => {
    const options = { seed: 9, trainPerClass: 2, valPerClass: 1, classes: 2 };
    const a = generateImagefolder(options);
    const b = generateImagefolder(options);
    expect(
      Buffer.concat(a.entries.map((e) => e.data)).equals(Buffer.concat(b.entries.map((e) => e.data))),
    ).toBe(true);
    const c = generateImagefolder({ ...options, seed: 10 });
    expect(c.entries[0]?.data.equals(a.entries[0]?.data ?? Buffer.alloc(0))).toBe(false);
  });

  it('names the option at fault', () => {
    expect(() => generateImagefolder({ valPerClass: -1 })).toThrow(/^valPerClass must be an integer/);
  });
});
