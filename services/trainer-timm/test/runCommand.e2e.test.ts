import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import type { TrainingStartRequestBody } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTrainerHarness,
  type TrainerHarness,
} from '../../../packages/trainer-runtime/test/trainerHarness.ts';
import { timmAdapter } from '../src/adapter.ts';

const main = join(import.meta.dirname, '..', 'src', 'main.ts');

/** `main.ts run` as a Kubernetes Job runs it: a process with the spec in its environment. */
describe('timm trainer `run`: one training as a process, exit code by outcome', () => {
  let harness: TrainerHarness;
  let datasetUri: string;
  let workDir: string;
  beforeAll(async () => {
    harness = await startTrainerHarness(timmAdapter, { warmRunners: false }); // its trainings run in `run` processes
    const dataset = generateImagefolder({ imageSize: 64, trainPerClass: 6, valPerClass: 2 });
    datasetUri = await harness.putDataset('run.zip', await zipBuffer(dataset.entries));
    workDir = await mkdtemp(join(tmpdir(), 'vtp-run-'));
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  function run(spec: TrainingStartRequestBody, env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [main, 'run'], {
      env: {
        ...process.env,
        WORK_DIR: workDir,
        LOG_LEVEL: 'warn',
        TRAINING_SPEC_JSON: JSON.stringify(spec),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c;
    });
    const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, output })),
    );
    return { child, exited };
  }

  it('exits 0 after a training that succeeded, every event delivered', { timeout: 120_000 }, async () => {
    const spec = harness.spec('test_resnet', datasetUri, { epochs: 1, imgsz: 64, batch: 6 });
    const { code, output } = await run(spec).exited;
    expect(code, output).toBe(0);
    expect(harness.callbacks.events(spec.jobId).at(-1)?.type).toBe('completed');
    expect(await readdir(join(workDir, 'jobs'))).toEqual([]);
  });

  it('exits 130 when SIGTERM cancels it, after reporting the cancel', { timeout: 120_000 }, async () => {
    const spec = harness.spec('test_resnet', datasetUri, { epochs: 500, imgsz: 64, batch: 2 });
    const { child, exited } = run(spec);
    await harness.callbacks.waitFor(
      'the first epoch',
      () => harness.callbacks.events(spec.jobId).some((e) => e.type === 'progress'),
      90_000,
    );
    child.kill('SIGTERM');
    const { code, output } = await exited;
    expect(code, output).toBe(130);
    const last = harness.callbacks.events(spec.jobId).at(-1);
    expect(last?.type).toBe('cancelled');
    expect(last?.type === 'cancelled' && last.artifacts.map((a) => a.kind)).toContain('last');
  });

  it('keeps events the backend did not take in the outbox, says so, and still exits by the outcome', {
    timeout: 120_000,
  }, async () => {
    const spec = harness.spec('test_resnet', datasetUri, { epochs: 1, imgsz: 64, batch: 6 });
    spec.callback.url = 'http://127.0.0.1:9/v1/jobs/unreachable/callback'; // nothing listens on port 9
    const { code, output } = await run(spec, { CALLBACK_DRAIN_TIMEOUT_MS: '1000' }).exited;
    expect(code, output).toBe(0);
    expect(output).toContain('stay in the outbox');
    expect(await readdir(join(workDir, 'outbox'))).toEqual([`${spec.jobId}.jsonl`]);
  });
});
