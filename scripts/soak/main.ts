// `npm run soak`: real short trainings of both frameworks while faults hit the platform at random moments
// (kill -9 of runners, trainers and the backend, a paused object store, a database outage) on CPUs kept busy,
// then the invariants every job must keep. Exits 1 when one fails. Options: --jobs N (20), --seed N,
// --faults runner,trainer,backend,storage,database, --no-contention, --minutes N (time limit, 40).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateImagefolder, generateYolo, zipBuffer } from '@vtp/sample-data';
import { freePort } from '@vtp/service-kit';
import { createS3Client } from '@vtp/service-kit/s3';
import type { Dataset, Job, JobEvent } from '@vtp/shared-schemas';
import { preparePythonEnv } from '../../packages/trainer-runtime/src/python-env/index.ts';
import { type RunningPlatform, startPlatform } from '../demo/platform.ts';
import { FAULT_DESCRIPTIONS, FAULTS, type Fault, inject } from './faults.ts';
import { startInterruptibleDatabase, startPausableS3 } from './infrastructure.ts';
import { checkJobs, type Invariant } from './invariants.ts';
import { processesMentioning } from './processes.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const { values: options } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    faults: { type: 'string', default: FAULTS.join(',') },
    'no-contention': { type: 'boolean', default: false },
    minutes: { type: 'string', default: '40' },
  },
});
const jobCount = Number(options.jobs);
const faults = options.faults.split(',').filter(Boolean) as Fault[];
for (const f of faults)
  if (!FAULTS.includes(f)) throw new Error(`unknown fault ${f}; one of ${FAULTS.join(', ')}`);
const deadline = Date.now() + Number(options.minutes) * 60_000;

// A small seeded generator: the same --seed picks the same epochs, faults and moments.
let state = Number(options.seed) >>> 0 || 1;
const random = () => {
  state = (state * 1_103_515_245 + 12_345) >>> 0;
  return state / 2 ** 32;
};
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
const started = Date.now();
const say = (line: string) =>
  process.stdout.write(`[soak ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Stopped early: exiting runs the embedded PostgreSQL's exit hook, and every child of the soak (object store,
// backend, busy loops) exits when its parent is gone.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  process.once(signal, () => process.exit(code));

/** Busy loops on every core, so that timing races show up; each exits when the soak is gone. */
function contention(): ChildProcess[] {
  const loop =
    'const p=process.ppid;for(let i=0;;i++){if(i%5e7===0){try{process.kill(p,0)}catch{process.exit()}}}';
  return Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }),
  );
}

async function main(): Promise<number> {
  say(`seed ${options.seed}, ${jobCount} jobs, faults: ${faults.join(', ') || 'none'}`);
  await preparePythonEnv(repoRoot, { onProgress: ({ message }) => say(`python-env: ${message}`) });
  // Under the repository, as the demo's: the embedded PostgreSQL's user must be able to reach it.
  const dataDir = join(repoRoot, '.data', `soak-${Date.now()}`);
  await mkdir(dataDir, { recursive: true });
  const busy = options['no-contention'] ? [] : contention();
  say(`data under ${dataDir}; ${busy.length} busy processes on ${availableParallelism()} cores`);
  try {
    return await soak(dataDir);
  } finally {
    for (const child of busy) child.kill();
  }
}

async function soak(dataDir: string): Promise<number> {
  const db = await startInterruptibleDatabase(join(dataDir, 'database'));
  const s3 = await startPausableS3(join(dataDir, 's3')).catch(async (err) => {
    await db.stop();
    throw err;
  });
  const port = await freePort();
  const env = {
    DATABASE_URL: db.url,
    S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    MONITOR_INTERVAL_MS: '1000',
    HEARTBEAT_TIMEOUT_SECONDS: '30',
    DISPATCH_TIMEOUT_SECONDS: '30',
    OUTCOME_GRACE_SECONDS: '10',
    MAX_JOBS_PER_FRAMEWORK: '2',
    LOG_LEVEL: 'warn',
  };
  // Every line the backend writes, across its restarts, is kept in one file for the post-mortem.
  const backendLog = createWriteStream(join(dataDir, 'backend.log'), { flags: 'a' });
  const start = () =>
    startPlatform(repoRoot, join(dataDir, 'backend'), (l) => backendLog.write(`${l}\n`), env, port);
  let platform: RunningPlatform | undefined;
  const injected = new Map<Fault, number>();
  try {
    // A backend that exits without being told to is a finding, not something to wait out.
    let expectedExit = false;
    let crashed: string | undefined;
    const watch = (started: RunningPlatform) =>
      void started.exited.then((code) => {
        if (!expectedExit && platform === started) crashed = `the backend exited by itself (code ${code})`;
      });
    platform = await start();
    watch(platform);
    const running = () => platform as RunningPlatform;
    const admin = { authorization: `Bearer ${running().adminKey}`, 'content-type': 'application/json' };
    const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      // The backend may be down (a fault): try again until it answers.
      for (;;) {
        if (crashed) throw new Error(crashed);
        const res = await fetch(`${running().url}${path}`, init).catch(() => undefined);
        if (res && res.status < 500) {
          const body = await res.text();
          if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} -> ${res.status}: ${body}`);
          return JSON.parse(body) as T;
        }
        if (Date.now() > deadline)
          throw new Error(`${path}: the backend did not answer before the time limit`);
        await sleep(1000);
      }
    };
    const { key } = await call<{ key: string }>('/v1/api-keys', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ user: 'soak@example.com', name: 'soak' }),
    });
    const auth = { authorization: `Bearer ${key}` };
    const upload = async (format: 'yolo' | 'imagefolder') => {
      const sample =
        format === 'yolo'
          ? generateYolo({ seed: 3, trainImages: 8, valImages: 4 })
          : generateImagefolder({ seed: 3, trainPerClass: 4, valPerClass: 2 });
      const form = new FormData();
      form.set('name', `soak-${format}`);
      form.set('format', format);
      form.set('file', new Blob([new Uint8Array(await zipBuffer(sample.entries))]), `${format}.zip`);
      return call<Dataset>('/v1/datasets', { method: 'POST', headers: auth, body: form });
    };
    const datasets = { ultralytics: await upload('yolo'), timm: await upload('imagefolder') };
    const ids: string[] = [];
    for (let i = 0; i < jobCount; i++) {
      const framework = i % 2 === 0 ? 'ultralytics' : 'timm';
      const epochs = 2 + Math.floor(random() * 5);
      const job = await call<Job>('/v1/jobs', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          framework,
          model: framework === 'ultralytics' ? 'yolo11n' : 'test_resnet',
          datasetId: datasets[framework].id,
          hyperparameters: { epochs, imgsz: 64, batch: 4 },
          maxRetries: 3,
          // Where the kernel cannot tell a kill -9 from the out-of-memory killer's, the runner faults look like it.
          retryOnOutOfMemory: true,
        }),
      });
      ids.push(job.id);
    }
    say(`${ids.length} jobs queued`);

    const jobs = () => Promise.all(ids.map((id) => call<Job>(`/v1/jobs/${id}`, { headers: auth })));
    const unfinished = async () =>
      (await jobs()).filter((j) => !['succeeded', 'failed', 'cancelled'].includes(j.status)).length;
    const targets = {
      dataDir,
      s3,
      db,
      pick,
      crashBackend: async (downMs: number) => {
        expectedExit = true;
        process.kill(running().pid, 'SIGKILL');
        await running().exited;
        await sleep(downMs);
        platform = await start();
        expectedExit = false;
        watch(platform);
      },
    };
    // Each fault in turn, in a shuffled order, at a random moment while jobs still run.
    const order = [...faults].sort(() => random() - 0.5);
    for (let i = 0; order.length && Date.now() < deadline; i++) {
      await sleep(5000 + random() * 15_000);
      const left = await unfinished();
      if (left === 0) break;
      const fault = order[i % order.length] as Fault;
      if (await inject(fault, targets)) {
        injected.set(fault, (injected.get(fault) ?? 0) + 1);
        say(`fault: ${FAULT_DESCRIPTIONS[fault]} (${left} jobs unfinished)`);
      }
    }
    for (let left = await unfinished(); left > 0 && Date.now() < deadline; left = await unfinished()) {
      say(`waiting for ${left} unfinished jobs`);
      await sleep(10_000);
    }

    const final = await jobs();
    const eventsOf = async (id: string) =>
      (await call<{ items: JobEvent[] }>(`/v1/jobs/${id}/events?limit=1000`, { headers: auth })).items;
    const s3Client = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    const invariants = await checkJobs(final, eventsOf, s3Client);

    say('stopping the platform');
    expectedExit = true;
    await running().stop();
    await s3.stop();
    await db.stop();
    await sleep(2000);
    const left = await processesMentioning(dataDir);
    invariants.push({
      name: 'no process left behind',
      violations: left.map((p) => `${p.pid}: ${p.command.slice(0, 120)}`),
    });
    report(final, injected, invariants);
    const ok = invariants.every((i) => i.violations.length === 0);
    if (ok) await rm(dataDir, { recursive: true, force: true });
    else say(`kept ${dataDir} for the post-mortem: backend.log, backend/logs/ (trainers)`);
    return ok ? 0 : 1;
  } finally {
    await platform?.stop().catch(() => undefined);
    await s3.stop().catch(() => undefined);
    await db.stop().catch(() => undefined);
  }
}

function report(jobs: Job[], injected: Map<Fault, number>, invariants: Invariant[]): void {
  const count = (p: (j: Job) => boolean) => jobs.filter(p).length;
  const failures = new Map<string, number>();
  for (const j of jobs) if (j.error) failures.set(j.error.code, (failures.get(j.error.code) ?? 0) + 1);
  const rows: [string, string][] = [
    ['jobs', String(jobs.length)],
    ['succeeded', String(count((j) => j.status === 'succeeded'))],
    ['  of them after a retry (resumed)', String(count((j) => j.status === 'succeeded' && j.attempt > 1))],
    ['attempts retried', String(jobs.reduce((n, j) => n + j.attempt - 1, 0))],
    ...[...failures].map(([code, n]): [string, string] => [`failed: ${code}`, String(n)]),
    ['cancelled', String(count((j) => j.status === 'cancelled'))],
    ...[...injected].map(([fault, n]): [string, string] => [
      `fault: ${FAULT_DESCRIPTIONS[fault]}`,
      String(n),
    ]),
    ...invariants.map((i): [string, string] => [
      `invariant: ${i.name}`,
      i.violations.length ? `FAILED (${i.violations.length})` : 'holds',
    ]),
  ];
  process.stdout.write(`\n| soak, seed ${options.seed} | |\n| --- | --- |\n`);
  for (const [name, value] of rows) process.stdout.write(`| ${name} | ${value} |\n`);
  for (const i of invariants)
    for (const v of i.violations.slice(0, 10)) process.stdout.write(`  ${i.name}: ${v}\n`);
  process.stdout.write(`\nin ${((Date.now() - started) / 60_000).toFixed(1)} min\n`);
}

process.exitCode = await main().catch((err: Error) => {
  process.stderr.write(`[soak] failed: ${err.stack ?? err.message}\n`);
  return 1;
});
