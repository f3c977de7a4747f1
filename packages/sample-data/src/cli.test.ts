import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../test/readZip.ts';

const cli = join(import.meta.dirname, 'cli.ts');

/** Runs the real CLI in its own Node process; a failing exit comes back as a result, not a throw. */
async function runCli(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('vtp-sample-data CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-sample-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a yolo zip and reports what it wrote', async () => {
    const out = join(dir, 'yolo.zip');
    const result = await runCli(
      '--format',
      'yolo',
      '--out',
      out,
      '--train',
      '4',
      '--val',
      '2',
      '--classes',
      '2',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`wrote yolo dataset to ${out} (zip)`);
    expect(result.stdout).toContain('classes: red, green');
    expect(result.stdout).toContain('images: 4 train, 2 val');
    expect(result.stdout).toContain('files: 13, bytes: ');
    expect((await readZip(out)).filter((e) => e.name.endsWith('.png'))).toHaveLength(6);
  });

  it('writes an imagefolder directory', async () => {
    const out = join(dir, 'folder');
    const result = await runCli(
      '--format',
      'imagefolder',
      '--out',
      out,
      '--train',
      '2',
      '--val',
      '1',
      '--size',
      '32',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('images: 6 train, 3 val');
    expect((await readdir(join(out, 'val'))).sort()).toEqual(['blue', 'green', 'red']);
  });

  it('rejects bad input with exit code 2 and names the flag', async () => {
    const badNumber = await runCli('--format', 'yolo', '--out', join(dir, 'x'), '--train', 'many');
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('--train must be a non-negative integer, got "many"');
    const badFormat = await runCli('--format', 'coco', '--out', join(dir, 'x'));
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format must be yolo or imagefolder, got "coco"');
  });
});
