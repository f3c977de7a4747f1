import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDataYaml } from '@vtp/service-kit/datasets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeDataYaml } from './dataYaml.ts';

describe('writeDataYaml', () => {
  let dir: string;
  let root: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-datayaml-'));
    root = join(dir, 'dataset', 'shapes');
    for (const folder of ['images/train', 'images/val', 'labels/train', 'labels/val', 'imgs/test/images']) {
      await mkdir(join(root, folder), { recursive: true });
    }
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const written = async (yaml: string) => {
    await writeFile(join(root, 'data.yaml'), yaml);
    const { dataYaml } = await writeDataYaml(root, dir);
    expect(dataYaml).toBe(join(dir, 'data.yaml'));
    return parse(await readFile(dataYaml!, 'utf8'));
  };

  it('points an absolute path at the unpacked dataset, with its names and default folders', async () => {
    expect(await written('names:\n  - circle\n  - square\n')).toEqual({
      path: root,
      train: 'images/train',
      val: 'images/val',
      names: ['circle', 'square'],
    });
  });

  it('takes names as a mapping, its own folders, and drops what must not reach Ultralytics', async () => {
    const yaml = [
      'path: ../datasets/elsewhere',
      'train: ./images/train/',
      'val: images/val',
      'test: imgs/test/images',
      'download: https://example.com/data.zip',
      'names: {0: circle, 1: square}',
    ].join('\n');
    expect(await written(yaml)).toEqual({
      path: root,
      train: 'images/train',
      val: 'images/val',
      test: 'imgs/test/images',
      names: ['circle', 'square'],
    });
  });

  it("takes a Roboflow export's leading ../ as the backend's upload check does (one shared rule)", async () => {
    const yaml = 'train: ../images/train\nval: ../images/val\nnames: [a, b]\n';
    expect(parseDataYaml(yaml).faults).toBeUndefined();
    expect(await written(yaml)).toMatchObject({ train: 'images/train', val: 'images/val' });
  });

  it('names data.yaml and the problem when the dataset cannot be trained on', async () => {
    await expect(writeDataYaml(root, dir)).rejects.toThrow(/^data\.yaml: is missing/);
    await expect(written('train: images/train\n')).rejects.toThrow(/data\.yaml: `names` is missing/);
    await expect(written('names: {0: a, 2: b}\n')).rejects.toThrow(/without gaps; found 0, 2/);
    await expect(written('names: [a]\ntrain: ../../etc\n')).rejects.toThrow(
      /must be a folder inside the archive/,
    );
    await expect(written('names: [a]\nval: images/validation\n')).rejects.toThrow(
      /val: images\/validation is not a folder of the dataset/,
    );
    await expect(written('names: [a\n')).rejects.toThrow(/data\.yaml: is not valid YAML/);
  });
});
