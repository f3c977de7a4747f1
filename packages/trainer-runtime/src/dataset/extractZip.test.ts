import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RawEntry, rawZip } from '../../test/rawZip.ts';
import { InvalidDatasetError } from '../adapter.ts';
import { findDatasetRoot } from './datasetRoot.ts';
import { DEFAULT_EXTRACT_LIMITS, extractZip } from './extractZip.ts';

describe('extractZip', () => {
  let dir: string;
  let zip: string;
  let out: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-extract-'));
    zip = join(dir, 'dataset.zip');
    out = join(dir, 'jobs', 'j', 'dataset');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const extract = async (entries: RawEntry[], limits = DEFAULT_EXTRACT_LIMITS) => {
    await writeFile(zip, rawZip(entries));
    return extractZip(zip, out, limits);
  };
  const refusal = async (entries: RawEntry[]) => {
    const error = await extract(entries).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(InvalidDatasetError);
    return (error as Error).message;
  };
  /** Nothing may appear outside the job's dataset folder. */
  const outside = async () =>
    (await readdir(dir)).filter((name) => name !== 'dataset.zip' && name !== 'jobs');

  it('unpacks a real dataset archive and counts its files and bytes', async () => {
    const dataset = generateImagefolder({ imageSize: 32, trainPerClass: 2, valPerClass: 1 });
    await writeFile(zip, await zipBuffer(dataset.entries));
    const summary = await extractZip(zip, out);
    expect(summary.files).toBe(dataset.entries.length);
    expect(summary.bytes).toBe(dataset.entries.reduce((sum, e) => sum + e.data.length, 0));
    const first = dataset.entries[0]!;
    expect(await readFile(join(out, first.path))).toEqual(first.data);
  });

  it('refuses zip-slip: a .. path, an absolute path, a backslash path, a symbolic link', async () => {
    expect(
      await refusal([
        { name: 'train/a.txt', data: 'ok' },
        { name: '../../evil.txt', data: 'x' },
      ]),
    ).toMatch(/\.\.\/\.\.\/evil\.txt/);
    expect(await refusal([{ name: '/tmp/evil.txt', data: 'x' }])).toMatch(/absolute|\/tmp\/evil\.txt/);
    expect(await refusal([{ name: 'train\\..\\..\\evil.txt', data: 'x' }])).toMatch(/backslash|invalid/);
    expect(await refusal([{ name: 'train/link', data: '/etc/passwd', unixMode: 0o120777 }])).toMatch(
      /train\/link: is a symbolic link/,
    );
    expect(await outside()).toEqual([]);
  });

  it('refuses a name that appears twice rather than let one file replace another', async () => {
    expect(
      await refusal([
        { name: 'a.txt', data: '1' },
        { name: 'a.txt', data: '2' },
      ]),
    ).toMatch(/a\.txt: appears twice/);
  });

  it('refuses an archive larger than the limits, naming the entry that crossed them', async () => {
    const limits = { ...DEFAULT_EXTRACT_LIMITS, maxUncompressedBytes: 10 };
    const error = await extract(
      [
        { name: 'a.txt', data: '123456' },
        { name: 'b.txt', data: '123456' },
      ],
      limits,
    ).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toMatch(/b\.txt: takes the archive past 10 bytes/);
    const entries = { ...DEFAULT_EXTRACT_LIMITS, maxEntries: 1 };
    await expect(extract([{ name: 'a' }, { name: 'b' }], entries)).rejects.toThrow(/2 entries; at most 1/);
  });

  it('refuses many entries that each stay under the per-entry ratio check but together are a bomb', async () => {
    const justUnder = Buffer.alloc(1024 * 1024 - 1);
    const entries = Array.from({ length: 80 }, (_, i) => ({ path: `train/cat/${i}.bmp`, data: justUnder }));
    await writeFile(zip, await zipBuffer(entries));
    await expect(extractZip(zip, out)).rejects.toThrow(/expands \d+:1 to \d+ bytes.*like a zip bomb/);
  });

  it('skips desktop junk', async () => {
    const summary = await extract([
      { name: '__MACOSX/._train', data: 'junk' },
      { name: 'train/.DS_Store', data: 'junk' },
      { name: 'train/a/x.png', data: 'png' },
    ]);
    expect(summary.files).toBe(1);
    expect(await readdir(out)).toEqual(['train']);
    expect(await readdir(join(out, 'train'))).toEqual(['a']);
  });

  it('says so when the file is not a zip at all', async () => {
    await writeFile(zip, 'PK? no, just text');
    await expect(extractZip(zip, out)).rejects.toThrow(/dataset\.zip: is not a readable zip archive/);
  });
});

describe('findDatasetRoot', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-root-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('steps into a lone wrapping folder, but not into a folder the format puts at the top', async () => {
    await mkdir(join(dir, 'mydata', 'images'), { recursive: true });
    expect(await findDatasetRoot(dir, ['images', 'labels'])).toBe(join(dir, 'mydata'));
    expect(await findDatasetRoot(join(dir, 'mydata'), ['images', 'labels'])).toBe(join(dir, 'mydata'));
    await writeFile(join(dir, 'data.yaml'), 'names: [a]');
    expect(await findDatasetRoot(dir, ['images', 'labels'])).toBe(dir);
  });
});
