import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset, Job } from '@vtp/client';
import { generateImagefolder, writeDirectory } from '@vtp/sample-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '../../../services/backend/test/support/testBackend.ts';
import { trainerPython } from '../../../services/backend/test/support/training.ts';
import { json, runVtp } from './runVtp.ts';

/** `vtp train --follow` on a real training: the backend runs the real timm trainer on a tiny dataset. */
describe('vtp train --follow', () => {
  let t: TestBackend;
  let scratch: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    trainerPython();
    t = await startTestBackend({ RUN_DISPATCHER: 'true', MONITOR_INTERVAL_MS: '500' });
    scratch = await mkdtemp(join(tmpdir(), 'vtp-cli-train-'));
    env = { VTP_URL: t.backend.url, VTP_API_KEY: (await t.newUser()).key as string };
  });
  afterAll(async () => {
    await t?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('follows a real training to its end, prints the summary, and downloads the checked checkpoint', async () => {
    const folder = join(scratch, 'tiny');
    await writeDirectory(generateImagefolder({ seed: 1, trainPerClass: 4, valPerClass: 2 }).entries, folder);
    json<Dataset>(await runVtp(['datasets', 'upload', folder, '--format', 'imagefolder', '--json'], env));

    const run = await runVtp(
      [
        'train',
        'timm',
        'test_resnet',
        '--dataset',
        'tiny',
        '--epochs',
        '2',
        '--set',
        'imgsz=32',
        '--set',
        'batch=4',
        '--follow',
      ],
      env,
      { timeoutMs: 170_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const id = /^Started job ([0-9a-f-]{36})$/m.exec(run.stdout)?.[1] ?? '';
    // Off a terminal: one plain line per epoch with its metrics, then the summary tables.
    expect(run.stdout).toMatch(/^epoch 1\/2 val\/top1=[\d.]+ /m);
    expect(run.stdout).toMatch(/^epoch 2\/2 val\/top1=[\d.]+ /m);
    expect(run.stdout).toMatch(/^status +succeeded$/m);
    expect(run.stdout).toMatch(/^epochs +2\/2$/m);
    expect(run.stdout).toMatch(/^METRIC +VALUE\n(.+\n)*val\/top1 +[\d.]+$/m);
    expect(run.stdout).toMatch(/^best +[\d.]+ [KM]iB +\d +[0-9a-f]{64}$/m);
    expect(run.stdout).not.toContain('\u001b');

    const job = json<Job>(await runVtp(['jobs', 'show', id, '--json'], env));
    const best = job.artifacts.find((a) => a.kind === 'best');
    const download = json<{ path: string; bytes: number; sha256: string }>(
      await runVtp(['jobs', 'download', id, '--artifact', 'best', '-o', scratch, '--json'], env),
    );
    expect(download).toMatchObject({ bytes: best?.bytes, sha256: best?.sha256 });
    expect(
      createHash('sha256')
        .update(await readFile(download.path))
        .digest('hex'),
    ).toBe(best?.sha256);

    const logs = await runVtp(['jobs', 'logs', id], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout.length).toBeGreaterThan(100);
  }, 240_000);

  it('a training that fails exits 1 with its reason', async () => {
    const folder = join(scratch, 'not-images');
    const entries = generateImagefolder({ seed: 2, trainPerClass: 2, valPerClass: 1 }).entries.map((e) =>
      e.path.endsWith('.png') ? { ...e, data: Buffer.from('this is not an image') } : e,
    );
    await writeDirectory(entries, folder);
    json<Dataset>(await runVtp(['datasets', 'upload', folder, '--format', 'imagefolder', '--json'], env));
    const run = await runVtp(
      [
        'train',
        'timm',
        'test_resnet',
        '--dataset',
        'not-images',
        '--epochs',
        '1',
        '--set',
        'imgsz=32',
        '--max-retries',
        '0',
        '--follow',
        '--json',
      ],
      env,
      { timeoutMs: 170_000 },
    );
    expect(run.code).toBe(1);
    const job = JSON.parse(run.stdout) as Job;
    expect(job.status).toBe('failed');
    expect(run.stderr).toBe(`vtp: job ${job.id} failed: ${job.error?.code}: ${job.error?.message}\n`);
    expect(['invalid_dataset', 'framework_error']).toContain(job.error?.code);
  }, 240_000);
});
