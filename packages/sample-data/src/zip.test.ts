import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../test/readZip.ts';
import { generateYolo } from './yolo.ts';
import { writeZip, zipBuffer } from './zip.ts';

const { entries } = generateYolo({ seed: 2, trainImages: 3, valImages: 2 });

describe('zip output', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-sample-zip-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips every entry, in order, through yauzl', async () => {
    const read = await readZip(await zipBuffer(entries));
    expect(read.map((e) => e.name)).toEqual([
      'data.yaml',
      'images/train/train_0000.png',
      'labels/train/train_0000.txt',
      'images/train/train_0001.png',
      'labels/train/train_0001.txt',
      'images/train/train_0002.png',
      'labels/train/train_0002.txt',
      'images/val/val_0000.png',
      'labels/val/val_0000.txt',
      'images/val/val_0001.png',
      'labels/val/val_0001.txt',
    ]);
    read.forEach((e, i) => {
      expect(e.data.equals(entries[i]?.data ?? Buffer.alloc(0))).toBe(true);
    });
  });

  it('gives the same bytes every time, whatever the time zone', async () => {
    const original = process.env.TZ;
    try {
      process.env.TZ = 'America/Los_Angeles';
      const west = await zipBuffer(entries);
      process.env.TZ = 'Asia/Tokyo';
      const east = await zipBuffer(entries);
      expect(east.equals(west)).toBe(true);
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
  });

  it('writes a zip file and returns its size', async () => {
    const file = join(dir, 'set.zip');
    const bytes = await writeZip(entries, file);
    expect((await stat(file)).size).toBe(bytes);
    expect((await readZip(file)).map((e) => e.name)).toEqual(entries.map((e) => e.path));
  });
});
