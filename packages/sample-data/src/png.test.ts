import { describe, expect, it } from 'vitest';
import { readPng } from '../test/readPng.ts';
import { createImage, encodePng, setPixel } from './png.ts';
import { createRandom } from './random.ts';

/** Odd sizes catch row-stride mistakes that square, even images hide. */
function randomImage(width: number, height: number) {
  const random = createRandom(3);
  const image = createImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      setPixel(image, x, y, [random.int(0, 255), random.int(0, 255), random.int(0, 255)]);
  }
  return image;
}

describe('encodePng', () => {
  it('writes a PNG whose chunks, CRCs and pixels decode back to the image', () => {
    const image = randomImage(7, 5);
    const png = encodePng(image);
    const decoded = readPng(png);
    expect(decoded.width).toBe(7);
    expect(decoded.height).toBe(5);
    expect(Buffer.from(decoded.pixels).equals(Buffer.from(image.pixels))).toBe(true);
  });

  it('produces a file the reader rejects once a byte of the pixel data is flipped', () => {
    const png = encodePng(randomImage(4, 4));
    const idat = png.indexOf('IDAT', 0, 'latin1');
    png[idat + 6] = (png[idat + 6] ?? 0) ^ 0xff;
    expect(() => readPng(png)).toThrow(/bad CRC in IDAT/);
  });

  it('refuses a pixel buffer whose length does not match the size', () => {
    expect(() => encodePng({ width: 2, height: 2, pixels: new Uint8Array(11) })).toThrow(/expected 12/);
  });
});
