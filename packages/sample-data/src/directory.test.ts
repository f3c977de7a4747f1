import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDirectory } from './directory.ts';
import { generateImagefolder } from './imagefolder.ts';

describe('writeDirectory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-sample-dir-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every entry under the folder and returns the bytes written', async () => {
    const { entries } = generateImagefolder({ trainPerClass: 2, valPerClass: 1 });
    const bytes = await writeDirectory(entries, dir);
    expect(bytes).toBe(entries.reduce((sum, e) => sum + e.data.length, 0));
    for (const entry of entries)
      expect((await readFile(join(dir, entry.path))).equals(entry.data)).toBe(true);
  });

  it('refuses an entry whose path climbs out of the folder', async () => {
    await expect(writeDirectory([{ path: '../escape.txt', data: Buffer.from('x') }], dir)).rejects.toThrow(
      /"\.\.\/escape\.txt" leaves/,
    );
  });
});
