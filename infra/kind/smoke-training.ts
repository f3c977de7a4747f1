// One training through the public API, start to finish: the check that a freshly deployed platform works.
// kind-up.sh runs it against the Kind cluster; it works against any backend URL.
//
//   node infra/kind/smoke-training.ts --url http://127.0.0.1:30800 --admin-key <key> --dataset shapes.zip \
//     [--framework ultralytics|timm] [--epochs 2] [--timeout-seconds 900]
//
// The dataset is a zip in the framework's layout (YOLO for ultralytics, imagefolder for timm), e.g. from
// `node packages/sample-data/src/cli.ts`. Exits 0 when the job succeeds, 1 with the job's error otherwise.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ApiKeyCreateResponseBody,
  Dataset,
  Job,
  type JobStatus,
  terminalStatuses,
} from '@vtp/shared-schemas';
import type { z } from 'zod';

const FRAMEWORKS = {
  ultralytics: { format: 'yolo', model: 'yolo11n', hyperparameters: { imgsz: 64, batch: 8, seed: 1 } },
  timm: { format: 'imagefolder', model: 'test_resnet', hyperparameters: { imgsz: 64, batch: 16, seed: 1 } },
} as const;
type FrameworkName = keyof typeof FRAMEWORKS;

interface SmokeOptions {
  url: string;
  adminKey: string;
  dataset: string;
  framework: FrameworkName;
  epochs: number;
  timeoutSeconds: number;
}

class UsageError extends Error {}

const say = (line: string) => process.stdout.write(`[smoke] ${line}\n`);

function parseOptions(argv: string[]): SmokeOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' },
      'admin-key': { type: 'string' },
      dataset: { type: 'string' },
      framework: { type: 'string', default: 'ultralytics' },
      epochs: { type: 'string', default: '2' },
      'timeout-seconds': { type: 'string', default: '900' },
    },
  });
  const required = (name: 'url' | 'admin-key' | 'dataset') => {
    const value = values[name];
    if (!value) throw new UsageError(`--${name} is required`);
    return value;
  };
  const positive = (name: 'epochs' | 'timeout-seconds') => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
    return value;
  };
  const framework = values.framework;
  if (framework !== 'ultralytics' && framework !== 'timm')
    throw new UsageError(`--framework must be ultralytics or timm, got ${JSON.stringify(framework)}`);
  return {
    url: required('url').replace(/\/$/, ''),
    adminKey: required('admin-key'),
    dataset: required('dataset'),
    framework,
    epochs: positive('epochs'),
    timeoutSeconds: positive('timeout-seconds'),
  };
}

/** A call whose answer must have the expected status and match the contract's schema. */
async function call<T extends z.ZodType>(
  url: string,
  init: RequestInit,
  expected: number,
  schema: T,
): Promise<z.output<T>> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) }).catch((error: Error) => {
    const reason = error.cause instanceof Error ? error.cause.message : error.message;
    throw new Error(`${init.method ?? 'GET'} ${url} failed: ${reason}`);
  });
  const text = await res.text();
  if (res.status !== expected)
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status} (expected ${expected}): ${text}`);
  return schema.parse(JSON.parse(text));
}

async function smokeTraining(o: SmokeOptions): Promise<boolean> {
  const { format, model, hyperparameters } = FRAMEWORKS[o.framework];
  const json = { 'content-type': 'application/json' };

  const { key } = await call(
    `${o.url}/v1/api-keys`,
    {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${o.adminKey}` },
      body: JSON.stringify({ user: 'smoke@vtp.local', name: `smoke-${Date.now()}` }),
    },
    201,
    ApiKeyCreateResponseBody,
  );
  const auth = { authorization: `Bearer ${key}` };
  say('created an API key for smoke@vtp.local');

  const form = new FormData();
  form.set('name', `smoke-${o.framework}`);
  form.set('format', format);
  form.set('file', new Blob([new Uint8Array(await readFile(o.dataset))]), basename(o.dataset));
  const dataset = await call(
    `${o.url}/v1/datasets`,
    { method: 'POST', headers: auth, body: form },
    201,
    Dataset,
  );
  say(
    `uploaded ${format} dataset ${dataset.id}: ${dataset.classNames.length} classes, ${dataset.imageCounts.train} train / ${dataset.imageCounts.val} val images`,
  );

  let job = await call(
    `${o.url}/v1/jobs`,
    {
      method: 'POST',
      headers: { ...json, ...auth },
      body: JSON.stringify({
        framework: o.framework,
        model,
        datasetId: dataset.id,
        hyperparameters: { ...hyperparameters, epochs: o.epochs },
      }),
    },
    201,
    Job,
  );
  say(`created ${o.framework}/${model} job ${job.id} (${o.epochs} epochs)`);

  const deadline = Date.now() + o.timeoutSeconds * 1000;
  let shown = '';
  while (!terminalStatuses.includes(job.status)) {
    if (Date.now() > deadline) {
      say(`job ${job.id} is still ${job.status} after ${o.timeoutSeconds}s: giving up`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 5000));
    job = await call(`${o.url}/v1/jobs/${job.id}`, { headers: auth }, 200, Job);
    const line = describe(job.status, job.progress.epoch, job.progress.totalEpochs);
    if (line !== shown) say(line);
    shown = line;
  }
  if (job.status !== 'succeeded') {
    say(
      `job ${job.id} ${job.status}: ${job.error ? `${job.error.code}: ${job.error.message}` : 'no error given'}`,
    );
    return false;
  }
  say(`job ${job.id} succeeded with ${job.artifacts.length} artifacts`);
  return true;
}

function describe(status: JobStatus, epoch: number, totalEpochs: number): string {
  return status === 'running' ? `running, epoch ${epoch}/${totalEpochs}` : status;
}

try {
  process.exitCode = (await smokeTraining(parseOptions(process.argv.slice(2)))) ? 0 : 1;
} catch (error) {
  process.stderr.write(`[smoke] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
