import { randomBytes } from 'node:crypto';
import { InputError } from '@vtp/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveSourceError } from './archiveError.ts';
import { inspectArchive } from './inspectArchive.ts';
import { DEFAULT_ARCHIVE_LIMITS } from './limits.ts';
import { openZipFromS3 } from './openZip.ts';
import { DEFAULT_BLOCK_CACHE, S3RandomAccessReader } from './s3RandomAccessReader.ts';
import { startTestS3, type TestS3 } from './testS3.ts';
import { buildZip, IMAGE, type ZipContent } from './testZips.ts';

// Real: the embedded S3-compatible server answering ranged GETs.
let storage: TestS3;
beforeAll(async () => {
  storage = await startTestS3();
});
afterAll(() => storage.stop());

function readRange(reader: S3RandomAccessReader, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  return new Promise((resolve, reject) =>
    reader.read(buffer, 0, length, position, (err) => (err ? reject(err) : resolve(buffer))),
  );
}

/** A YOLO dataset of `images` images, each with its small label file. */
function manySmallFiles(images: number): ZipContent {
  const content: ZipContent = { 'data.yaml': 'names: [cat, dog]\n', 'images/val/v.jpg': IMAGE };
  for (let i = 0; i < images; i++) {
    content[`images/train/${i}.jpg`] = IMAGE;
    content[`labels/train/${i}.txt`] = `${i % 2} 0.5 0.5 0.25 0.125\n`;
  }
  return content;
}

describe('S3RandomAccessReader', () => {
  it('returns the exact bytes of ranges that start, end and span block boundaries', async () => {
    const bytes = randomBytes(10_000);
    const object = await storage.put(bytes);
    const reader = new S3RandomAccessReader(storage.s3, object, { blockBytes: 1024, maxBlocks: 3 });
    for (const [position, length] of [
      [0, 1],
      [1000, 48],
      [1024, 1024],
      [3000, 5000],
      [9990, 10],
      [0, 10_000],
    ] as const) {
      expect(
        (await readRange(reader, position, length)).equals(bytes.subarray(position, position + length)),
      ).toBe(true);
    }
  });

  it('fails a read past the end of the object', async () => {
    const object = await storage.put(randomBytes(100));
    const reader = new S3RandomAccessReader(storage.s3, object);
    await expect(readRange(reader, 90, 20)).rejects.toThrow(/unexpected end of archive at byte 100/);
  });

  it('inspects 2000 small files with one GET per block of the archive', async () => {
    const archive = await buildZip(manySmallFiles(1000));
    const object = await storage.put(archive);
    const before = storage.getObjectCalls();
    const summary = await inspectArchive(
      await openZipFromS3(storage.s3, object),
      'yolo',
      DEFAULT_ARCHIVE_LIMITS,
    );
    const calls = storage.getObjectCalls() - before;

    expect(summary.imageCounts).toEqual({ train: 1000, val: 1, test: 0 });
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(Math.ceil(archive.length / DEFAULT_BLOCK_CACHE.blockBytes));
  });

  it('stays correct and frugal when the cache is far smaller than the archive', async () => {
    const archive = await buildZip(manySmallFiles(300));
    const object = await storage.put(archive);
    const cache = { blockBytes: 4096, maxBlocks: 2 };
    const before = storage.getObjectCalls();
    const summary = await inspectArchive(await openZipFromS3(storage.s3, object, cache), 'yolo');
    const calls = storage.getObjectCalls() - before;

    expect(summary.imageCounts.train).toBe(300);
    // The directory walk and the content pass each read the archive front to back about once.
    expect(calls).toBeLessThanOrEqual(2 * Math.ceil(archive.length / cache.blockBytes) + 2);
  });

  it('reports a storage failure as ArchiveSourceError, not as a bad upload', async () => {
    const object = await storage.put(await buildZip({ 'a.txt': 'x' }));
    const err = await openZipFromS3(storage.s3, { ...object, key: 'staging/missing.zip' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ArchiveSourceError);
    expect(err).not.toBeInstanceOf(InputError);
    expect((err as Error).message).toContain('staging/missing.zip');
  });
});
