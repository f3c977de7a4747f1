import { inflateSync } from 'node:zlib';
import type { RgbImage } from '../src/png.ts';

/**
 * A minimal PNG reader for tests, written apart from the encoder: it checks the signature, every chunk's CRC
 * (with its own CRC table, not zlib's), the IHDR fields, and undoes all five scanline filters.
 */
export function readPng(png: Buffer): RgbImage {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    throw new Error('not a PNG: bad signature');
  }
  const chunks: { type: string; data: Buffer }[] = [];
  for (let offset = 8; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const expected = png.readUInt32BE(offset + 8 + length);
    if (crc32(png.subarray(offset + 4, offset + 8 + length)) !== expected)
      throw new Error(`bad CRC in ${type}`);
    chunks.push({ type, data });
    offset += 12 + length;
  }
  const [first] = chunks;
  if (first?.type !== 'IHDR') throw new Error('IHDR is not the first chunk');
  if (chunks.at(-1)?.type !== 'IEND') throw new Error('IEND is not the last chunk');
  const width = first.data.readUInt32BE(0);
  const height = first.data.readUInt32BE(4);
  const [bitDepth, colorType, compression, filter, interlace] = first.data.subarray(8, 13);
  if (bitDepth !== 8 || colorType !== 2 || compression !== 0 || filter !== 0 || interlace !== 0) {
    throw new Error(`unsupported IHDR: depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`);
  }

  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const stride = width * 3;
  if (raw.length !== (stride + 1) * height) throw new Error(`IDAT inflates to ${raw.length} bytes`);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filterType = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const left = i >= 3 ? (pixels[y * stride + i - 3] ?? 0) : 0;
      const up = y > 0 ? (pixels[(y - 1) * stride + i] ?? 0) : 0;
      const upLeft = y > 0 && i >= 3 ? (pixels[(y - 1) * stride + i - 3] ?? 0) : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filterType ?? -1];
      if (predictor === undefined) throw new Error(`row ${y}: unknown filter ${filterType}`);
      pixels[y * stride + i] = ((raw[y * (stride + 1) + 1 + i] ?? 0) + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
