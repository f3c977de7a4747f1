import { randomBytes } from 'node:crypto';
import { InputError } from '@vtp/service-kit';
import type { DatasetFormat } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatasetSummary, inspectArchive } from './inspectArchive.ts';
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './limits.ts';
import { openZipFromS3 } from './openZip.ts';
import { startTestS3, type TestS3 } from './testS3.ts';
import { buildZip, craftZip, IMAGE, imageFolderDataset, wrapped, yoloDataset } from './testZips.ts';

// Real: yazl-built and hand-written zips, stored in the embedded S3-compatible server and read back by range.
let storage: TestS3;
beforeAll(async () => {
  storage = await startTestS3();
});
afterAll(() => storage.stop());

async function inspectUpload(
  archive: Buffer,
  format: DatasetFormat,
  limits: Partial<ArchiveLimits> = {},
): Promise<DatasetSummary> {
  const zip = await openZipFromS3(storage.s3, await storage.put(archive));
  return inspectArchive(zip, format, { ...DEFAULT_ARCHIVE_LIMITS, ...limits });
}

async function refusal(inspection: Promise<unknown>): Promise<InputError> {
  const outcome = await inspection.then(
    (summary) => new Error(`expected a refusal, got ${JSON.stringify(summary)}`),
    (err: unknown) => err,
  );
  if (!(outcome instanceof InputError)) throw outcome;
  return outcome;
}

function pathsOf(err: InputError): string[] {
  return (err.issues ?? []).map((issue) => issue.path);
}

describe('valid archives', () => {
  it('summarises a YOLO dataset, counting background images and a test split declared in data.yaml', async () => {
    const archive = await buildZip(
      yoloDataset({
        'data.yaml':
          'path: /home/me/data\ntrain: ./images/train/\nval: images/val\ntest: images/test\nnc: 2\nnames:\n  0: cat\n  1: dog\n',
        'images/test/d.webp': IMAGE,
      }),
    );
    expect(await inspectUpload(archive, 'yolo')).toEqual({
      root: '',
      classNames: ['cat', 'dog'],
      imageCounts: { train: 2, val: 1, test: 1 },
    });
  });

  it('accepts the Roboflow layout, whose data.yaml points at ../train/images', async () => {
    const archive = await buildZip({
      'data.yaml': 'train: ../train/images\nval: ../valid/images\nnc: 1\nnames: [cat]\n',
      'train/images/a.jpg': IMAGE,
      'train/labels/a.txt': '0 0.5 0.5 0.2 0.2\n',
      'valid/images/b.jpg': IMAGE,
    });
    expect(await inspectUpload(archive, 'yolo')).toMatchObject({
      imageCounts: { train: 1, val: 1, test: 0 },
    });
  });

  it('accepts a YOLO dataset wrapped in one folder and ignores macOS and Windows junk', async () => {
    const archive = await buildZip({
      ...wrapped('mydata', yoloDataset({ 'images/train/.DS_Store': 'x', 'images/train/._a.jpg': 'x' })),
      'mydata/': null,
      '__MACOSX/mydata/._data.yaml': 'x',
      'mydata/labels/Thumbs.db': 'x',
    });
    expect(await inspectUpload(archive, 'yolo')).toEqual({
      root: 'mydata/',
      classNames: ['cat', 'dog'],
      imageCounts: { train: 2, val: 1, test: 0 },
    });
  });

  it('summarises an imagefolder dataset with classes in sorted order and a test split', async () => {
    const archive = await buildZip(
      imageFolderDataset({ 'test/cat/9.bmp': IMAGE, 'train/': null, 'train/cat/': null, 'README.md': '# x' }),
    );
    expect(await inspectUpload(archive, 'imagefolder')).toEqual({
      root: '',
      classNames: ['cat', 'dog'],
      imageCounts: { train: 3, val: 1, test: 1 },
    });
  });

  it('accepts an imagefolder dataset wrapped in one folder, with junk', async () => {
    const archive = await buildZip({
      ...wrapped('pets', imageFolderDataset({ 'train/cat/desktop.ini': 'x', 'val/dog/.DS_Store': 'x' })),
      '__MACOSX/pets/train/cat/._1.jpg': 'x',
    });
    const summary = await inspectUpload(archive, 'imagefolder');
    expect(summary).toMatchObject({ root: 'pets/', classNames: ['cat', 'dog'] });
  });
});

describe('unreadable archives', () => {
  it('refuses random bytes', async () => {
    const err = await refusal(inspectUpload(randomBytes(4096), 'yolo'));
    expect(err.code).toBe('invalid_archive');
    expect(pathsOf(err)).toEqual(['']);
  });

  it('refuses a truncated zip', async () => {
    const archive = await buildZip(yoloDataset());
    const err = await refusal(inspectUpload(archive.subarray(0, archive.length - 30), 'yolo'));
    expect(err.code).toBe('invalid_archive');
    expect(pathsOf(err)).toEqual(['']);
  });

  it('refuses an entry that inflates past its declared size, naming it', async () => {
    const archive = craftZip([
      { name: 'data.yaml', data: 'names: [cat]\n' },
      { name: 'images/train/a.jpg', data: 'jpg' },
      { name: 'images/val/b.jpg', data: 'jpg' },
      {
        name: 'labels/train/a.txt',
        data: '0 0.5 0.5 0.1 0.1\n'.repeat(1000),
        deflate: true,
        declaredSize: 18,
      },
    ]);
    const err = await refusal(inspectUpload(archive, 'yolo'));
    expect(err.code).toBe('invalid_archive');
    expect(pathsOf(err)).toEqual(['labels/train/a.txt']);
  });
});

describe('unsafe archives', () => {
  const dataset = [
    { name: 'data.yaml', data: 'names: [cat]\n' },
    { name: 'images/train/a.jpg', data: 'jpg' },
  ];

  it('refuses a zip-slip entry', async () => {
    const err = await refusal(
      inspectUpload(craftZip([...dataset, { name: '../evil.txt', data: 'x' }]), 'yolo'),
    );
    expect(err.code).toBe('unsafe_archive');
    expect(pathsOf(err)).toEqual(['../evil.txt']);
  });

  it('refuses an absolute path', async () => {
    const err = await refusal(
      inspectUpload(craftZip([{ name: '/etc/passwd', data: 'root' }, ...dataset]), 'yolo'),
    );
    expect(err.code).toBe('unsafe_archive');
    expect(pathsOf(err)).toEqual(['/etc/passwd']);
    expect(err.message).toContain('/etc/passwd: is an absolute path');
  });

  it('reports every unsafe entry: backslash, symlink, encrypted, duplicate', async () => {
    const archive = craftZip([
      ...dataset,
      { name: 'images\\val\\b.jpg', data: 'jpg' },
      { name: 'images/val/link.jpg', data: '/etc/shadow', unixMode: 0o120777 },
      { name: 'labels/train/a.txt', data: '0 0.5 0.5 0.1 0.1', deflate: true, encrypted: true },
      { name: 'images/train/a.jpg', data: 'other' },
    ]);
    const err = await refusal(inspectUpload(archive, 'yolo'));
    expect(err.code).toBe('unsafe_archive');
    expect(err.issues).toEqual([
      { path: 'images\\val\\b.jpg', message: expect.stringContaining('backslash') },
      { path: 'images/val/link.jpg', message: 'is a symbolic link' },
      { path: 'labels/train/a.txt', message: 'is encrypted' },
      { path: 'images/train/a.jpg', message: expect.stringContaining('appears twice') },
    ]);
  });
});

describe('archives too large', () => {
  it('refuses more entries than the limit before reading any of them', async () => {
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`train/cat/${i}.jpg`, IMAGE]));
    const err = await refusal(inspectUpload(await buildZip(many), 'imagefolder', { maxEntries: 50 }));
    expect(err.code).toBe('archive_too_large');
    expect(pathsOf(err)).toEqual(['']);
    expect(err.message).toContain('60 entries');
  });

  it('refuses a small entry that expands enormously (zip bomb)', async () => {
    const bomb = Buffer.alloc(16 * 1024 * 1024);
    const archive = await buildZip(imageFolderDataset({ 'train/cat/zeros.bmp': bomb }));
    expect(archive.length).toBeLessThan(100_000);
    const err = await refusal(inspectUpload(archive, 'imagefolder'));
    expect(err.code).toBe('archive_too_large');
    expect(pathsOf(err)).toEqual(['train/cat/zeros.bmp']);
  });

  it('refuses many entries that each stay under the per-entry ratio check but together are a bomb', async () => {
    const justUnder = Buffer.alloc(1024 * 1024 - 1);
    const entries = Object.fromEntries(
      Array.from({ length: 80 }, (_, i) => [`train/cat/${i}.bmp`, justUnder]),
    );
    const archive = await buildZip(imageFolderDataset(entries));
    expect(archive.length).toBeLessThan(1024 * 1024);
    const err = await refusal(inspectUpload(archive, 'imagefolder'));
    expect(err.code).toBe('archive_too_large');
    expect(pathsOf(err)).toEqual(['']);
    expect(err.issues?.[0]?.message).toContain('the archive as a whole expands');
  });

  it('refuses more classes than the limit, naming where they are listed', async () => {
    const archive = await buildZip(yoloDataset({ 'data.yaml': 'names: [a, b, c]\n' }));
    const yolo = await refusal(inspectUpload(archive, 'yolo', { maxClasses: 2 }));
    expect(yolo.code).toBe('invalid_dataset');
    expect(yolo.issues).toEqual([{ path: 'data.yaml', message: 'has 3 classes, above the limit of 2' }]);
  });

  it('refuses an archive whose total unpacked size is above the limit', async () => {
    const archive = await buildZip(imageFolderDataset({ 'train/cat/big.png': randomBytes(5000) }));
    const err = await refusal(inspectUpload(archive, 'imagefolder', { maxUncompressedBytes: 4096 }));
    expect(err.code).toBe('archive_too_large');
    expect(pathsOf(err)).toEqual(['']);
  });
});

describe('YOLO structure', () => {
  async function yoloRefusal(overrides: Record<string, string | Buffer | null>, limits = {}) {
    const content = yoloDataset(overrides);
    for (const [path, data] of Object.entries(overrides)) if (data === null) delete content[path];
    const err = await refusal(inspectUpload(await buildZip(content), 'yolo', limits));
    expect(err.code).toBe('invalid_dataset');
    return err;
  }

  it('refuses a missing data.yaml', async () => {
    const err = await refusal(
      inspectUpload(await buildZip(wrapped('d', { 'images/train/a.jpg': IMAGE })), 'yolo'),
    );
    expect(err.code).toBe('invalid_dataset');
    expect(pathsOf(err)).toEqual(['d/data.yaml']);
  });

  it('refuses data.yaml whose nc disagrees with names, or whose ids have gaps', async () => {
    let err = await yoloRefusal({ 'data.yaml': 'nc: 3\nnames: [cat, dog]\n' });
    expect(err.issues).toEqual([{ path: 'data.yaml', message: 'nc is 3 but names lists 2 classes' }]);
    err = await yoloRefusal({ 'data.yaml': 'names: {0: cat, 2: dog}\n' });
    expect(err.issues).toEqual([{ path: 'data.yaml', message: expect.stringContaining('without gaps') }]);
  });

  it('refuses a class id out of range, naming the file and line', async () => {
    const err = await yoloRefusal({ 'labels/train/a.txt': '0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n' });
    expect(err.issues).toEqual([
      { path: 'labels/train/a.txt', message: expect.stringMatching(/^line 2: class id 2 is out of range/) },
    ]);
  });

  it('refuses a malformed label line (a segmentation polygon)', async () => {
    const err = await yoloRefusal({ 'labels/val/c.txt': '1 0.1 0.1 0.2 0.1 0.2 0.2\n' });
    expect(pathsOf(err)).toEqual(['labels/val/c.txt']);
    expect(err.issues?.[0]?.message).toContain('expected 5 values');
  });

  it('refuses a label file without its image', async () => {
    const err = await yoloRefusal({ 'labels/train/ghost.txt': '0 0.5 0.5 0.2 0.2\n' });
    expect(pathsOf(err)).toEqual(['labels/train/ghost.txt']);
  });

  it('refuses a split without images and a stray file among images', async () => {
    const err = await yoloRefusal({
      'images/val/c.jpg': null,
      'labels/val/c.txt': null,
      'images/train/x.gif': 'x',
    });
    expect(pathsOf(err)).toEqual(['images/train/x.gif', 'images/val/']);
  });

  it('refuses a label file above the size limit', async () => {
    const err = await yoloRefusal(
      { 'labels/train/a.txt': '0 0.5 0.5 0.2 0.2\n'.repeat(10) },
      { maxLabelFileBytes: 100 },
    );
    expect(pathsOf(err)).toEqual(['labels/train/a.txt']);
  });

  it('caps the reported issues and says how many more there were', async () => {
    const bad: Record<string, string> = {};
    for (let i = 0; i < 60; i++) bad[`labels/train/orphan${i}.txt`] = '0 0.5 0.5 0.2 0.2\n';
    const err = await yoloRefusal(bad);
    expect(err.issues).toHaveLength(51);
    expect(err.issues?.[0]?.path).toBe('labels/train/orphan0.txt');
    expect(err.issues?.[50]).toEqual({ path: '', message: '... and 10 more' });
  });
});

describe('imagefolder structure', () => {
  it('refuses a stray non-image file in a class folder', async () => {
    const archive = await buildZip(imageFolderDataset({ 'train/cat/notes.txt': 'x' }));
    const err = await refusal(inspectUpload(archive, 'imagefolder'));
    expect(err.code).toBe('invalid_dataset');
    expect(pathsOf(err)).toEqual(['train/cat/notes.txt']);
  });

  it('refuses a dataset without val', async () => {
    const archive = await buildZip({ 'train/cat/1.jpg': IMAGE, 'train/dog/2.jpg': IMAGE });
    const err = await refusal(inspectUpload(archive, 'imagefolder'));
    expect(err.code).toBe('invalid_dataset');
    expect(pathsOf(err)).toEqual(['val/']);
  });

  it('refuses nested folders, loose split files, val classes unknown to train and empty classes', async () => {
    const archive = await buildZip(
      imageFolderDataset({
        'train/cat/kittens/1.jpg': IMAGE,
        'train/loose.jpg': IMAGE,
        'train/bird/': null,
        'val/fox/1.jpg': IMAGE,
      }),
    );
    const err = await refusal(inspectUpload(archive, 'imagefolder'));
    expect(err.code).toBe('invalid_dataset');
    expect(pathsOf(err).sort()).toEqual(
      ['train/cat/kittens/1.jpg', 'train/loose.jpg', 'train/bird/', 'val/fox/'].sort(),
    );
  });
});
