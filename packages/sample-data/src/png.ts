import { crc32, deflateSync } from 'node:zlib';

/** An 8-bit RGB raster, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export type Rgb = readonly [r: number, g: number, b: number];

export function createImage(width: number, height: number): RgbImage {
  return { width, height, pixels: new Uint8Array(width * height * 3) };
}

export function setPixel(image: RgbImage, x: number, y: number, [r, g, b]: Rgb): void {
  const offset = (y * image.width + x) * 3;
  image.pixels[offset] = r;
  image.pixels[offset + 1] = g;
  image.pixels[offset + 2] = b;
}

export function getPixel(image: RgbImage, x: number, y: number): Rgb {
  const offset = (y * image.width + x) * 3;
  return [image.pixels[offset] ?? 0, image.pixels[offset + 1] ?? 0, image.pixels[offset + 2] ?? 0];
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BIT_DEPTH_8 = 8;
const COLOR_TYPE_RGB = 2;
const FILTER_NONE = 0;

/** Encodes an image as a truecolour 8-bit PNG: IHDR, one IDAT, IEND. */
export function encodePng(image: RgbImage): Buffer {
  const { width, height, pixels } = image;
  if (pixels.length !== width * height * 3) {
    throw new RangeError(`encodePng: pixels has ${pixels.length} bytes, expected ${width * height * 3}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(BIT_DEPTH_8, 8);
  header.writeUInt8(COLOR_TYPE_RGB, 9);
  // Bytes 10-12 stay 0: deflate compression, adaptive filtering, no interlace.

  // Every scanline starts with its filter byte; "none" keeps the encoder trivial and noise barely compresses anyway.
  const rowBytes = width * 3;
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = FILTER_NONE;
    raw.set(pixels.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }

  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  // The CRC covers the type and the data, not the length.
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
