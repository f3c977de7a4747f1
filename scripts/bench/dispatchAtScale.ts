// The scale rows: dispatch latency, fair shares between users, list endpoints over a large jobs table, and one
// backend replica carrying thousands of running trainings. The trainings are simulated (simulatedTrainer.ts):
// the backend, its database and the HTTP protocols are the real ones.
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import { type Scrape, scrapeMetrics } from '@vtp/service-kit';
import knex from 'knex';
import { LOOP_PASS_BUCKETS } from '../../services/backend/src/observability/jobMetrics.ts';
import { memoryOf, mib, percentile } from './measure.ts';
import type { SimulatedTrainer } from './simulatedTrainer.ts';

export interface ScaleRow {
  name: string;
  value: string;
  baseline: string;
  ratio: number;
  target: number;
  lowerIsBetter: boolean;
}

export interface RunningBackend {
  url: string;
  pid: number;
  stop(): Promise<unknown>;
}

export interface ScaleContext {
  /** A backend on the bench's database with `sim` as every framework's trainer, dispatcher on. */
  startBackend(env: Record<string, string>): Promise<RunningBackend>;
  sim: SimulatedTrainer;
  databaseUrl: string;
  adminKey: string;
  smoke: boolean;
  say(line: string): void;
}

interface User {
  auth: { authorization: string };
  datasetId: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call<T>(url: string, init: RequestInit & { expect: number }): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status !== init.expect) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Users with a key and a (tiny, real) dataset each, created through the API. */
async function createUsers(ctx: ScaleContext, url: string, prefix: string, count: number): Promise<User[]> {
  const zip = await zipBuffer(
    generateImagefolder({ seed: 1, imageSize: 32, trainPerClass: 2, valPerClass: 1 }).entries,
  );
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const { key } = await call<{ key: string }>(`${url}/v1/api-keys`, {
        method: 'POST',
        expect: 201,
        headers: { authorization: `Bearer ${ctx.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: `${prefix}-${i}@example.com` }),
      });
      const auth = { authorization: `Bearer ${key}` };
      const form = new FormData();
      form.set('name', 'scale');
      form.set('format', 'imagefolder');
      form.set('file', new Blob([new Uint8Array(zip)]), 'scale.zip');
      const dataset = await call<{ id: string }>(`${url}/v1/datasets`, {
        method: 'POST',
        expect: 201,
        headers: auth,
        body: form,
      });
      return { auth, datasetId: dataset.id };
    }),
  );
}

const createJob = (url: string, user: User) =>
  call<{ id: string }>(`${url}/v1/jobs`, {
    method: 'POST',
    expect: 201,
    headers: { ...user.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ framework: 'timm', model: 'test_resnet', datasetId: user.datasetId }),
  }).then((job) => job.id);

async function waitUntil(what: string, done: () => Promise<boolean> | boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The upper bound of the pass-duration bucket holding its p-th percentile (what Prometheus' buckets allow). */
function histogramPercentile(
  scrape: Scrape,
  name: string,
  labels: Record<string, string>,
  p: number,
): number {
  const total = scrape.sum(`${name}_count`, labels);
  for (const le of LOOP_PASS_BUCKETS) {
    if (scrape.sum(`${name}_bucket`, { ...labels, le: String(le) }) >= (p / 100) * total) return le;
  }
  return Number.POSITIVE_INFINITY;
}

/** Jobs not yet ended, straight from PostgreSQL. */
async function unfinished(db: knex.Knex): Promise<number> {
  const [row] = await db('jobs').whereIn('status', ['queued', 'dispatching', 'running']).count({ n: '*' });
  return Number(row?.n ?? 0);
}

/** Job created -> the trainer's start request arrived, one job at a time on a warm backend and trainer. */
async function dispatchLatency(ctx: ScaleContext): Promise<ScaleRow[]> {
  const { sim } = ctx;
  sim.plan = { epochs: 1, epochMs: 1, heartbeatMs: 60_000, hold: false };
  const backend = await ctx.startBackend({ MAX_JOBS_PER_FRAMEWORK: '4', MAX_JOBS_PER_USER: '4' });
  try {
    const [user] = await createUsers(ctx, backend.url, 'latency', 1);
    if (!user) throw new Error('no user');
    const count = ctx.smoke ? 10 : 200;
    const warmup = 5;
    const latencies: number[] = [];
    for (let i = 0; i < warmup + count; i++) {
      const sent = performance.now();
      const id = await createJob(backend.url, user);
      const accepted = await sim.whenAccepted(id);
      if (i >= warmup) latencies.push(accepted - sent);
      await waitUntil(
        'the job to end',
        async () =>
          (
            await call<{ status: string }>(`${backend.url}/v1/jobs/${id}`, {
              expect: 200,
              headers: user.auth,
            })
          ).status === 'succeeded',
        30_000,
      );
    }
    const p50 = percentile(latencies, 50);
    ctx.say(`dispatch latency over ${count} jobs: p50 ${p50.toFixed(1)} ms`);
    return [
      {
        name: 'dispatch latency: job created -> trainer received the training, p50',
        value: `${p50.toFixed(1)} ms (p95 ${percentile(latencies, 95).toFixed(1)} ms, ${count} jobs)`,
        baseline: '-',
        ratio: p50,
        target: 100,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await backend.stop();
  }
}

/**
 * A full cluster with a queue behind it, queued in the worst order for first-come-first-served (each user's
 * jobs after the previous user's); once the cluster frees up, every user should get slots at the same pace.
 */
async function fairShares(ctx: ScaleContext): Promise<ScaleRow[]> {
  const { sim } = ctx;
  const users = ctx.smoke ? 4 : 20;
  const perUser = ctx.smoke ? 5 : 50;
  const slots = ctx.smoke ? 4 : 20;
  const backend = await ctx.startBackend({
    MAX_JOBS_PER_FRAMEWORK: String(slots),
    MAX_JOBS_PER_USER: String(slots),
    MAX_QUEUED_JOBS_PER_USER: String(Math.max(perUser, slots)),
  });
  const db = knex({ client: 'pg', connection: ctx.databaseUrl });
  try {
    const [blocker, ...queuers] = await createUsers(ctx, backend.url, 'fair', users + 1);
    if (!blocker) throw new Error('no user');
    // The cluster is full: held trainings take every slot.
    sim.plan = { epochs: 1, epochMs: 60_000, heartbeatMs: 10_000, hold: true };
    const blockers = await Promise.all(Array.from({ length: slots }, () => createJob(backend.url, blocker)));
    await Promise.all(blockers.map((id) => sim.whenAccepted(id)));
    const owner = new Map<string, number>();
    for (const [u, user] of queuers.entries()) {
      for (let i = 0; i < perUser; i++) owner.set(await createJob(backend.url, user), u);
    }
    sim.plan = { epochs: 2, epochMs: 50, heartbeatMs: 10_000, hold: false };
    const released = performance.now();
    await sim.finishAll();
    const jobs = [...owner.keys()];
    await waitUntil(
      'every queued job to be dispatched',
      () => jobs.every((id) => sim.acceptedAt.has(id)),
      600_000,
    );
    const dispatchSeconds = (performance.now() - released) / 1000;
    // The window in which every user still had work queued: until the first user's last job was dispatched.
    const lastOf = Array.from({ length: users }, () => 0);
    for (const id of jobs) {
      const u = owner.get(id) as number;
      lastOf[u] = Math.max(lastOf[u] as number, sim.acceptedAt.get(id) as number);
    }
    const windowEnd = Math.min(...lastOf);
    const shares = Array.from({ length: users }, () => 0);
    for (const id of jobs) {
      const at = sim.acceptedAt.get(id) as number;
      const u = owner.get(id) as number;
      if (at < windowEnd) shares[u] = (shares[u] as number) + 1;
    }
    const ratio = Math.max(...shares) / Math.max(Math.min(...shares), 1e-9);
    await waitUntil('every job to end', () => unfinished(db).then((n) => n === 0), 120_000);
    ctx.say(`fair shares: ${shares.join(' ')} dispatches per user while all had work queued`);
    return [
      {
        name: `fair shares: ${users * perUser} queued jobs of ${users} users through ${slots} slots, most / fewest dispatched per user while all had work queued`,
        value: `${Math.max(...shares)} / ${Math.min(...shares)} (all dispatched in ${dispatchSeconds.toFixed(1)} s)`,
        baseline: '-',
        ratio,
        target: 1.5,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await db.destroy();
    await backend.stop();
  }
}

/**
 * The list endpoints over a jobs table of 100,000 finished jobs (with their attempts and artifacts) of 20
 * users, written straight into PostgreSQL: a history the API would take hours to build here.
 */
async function listsOverLargeTable(ctx: ScaleContext): Promise<ScaleRow[]> {
  const total = ctx.smoke ? 2_000 : 100_000;
  const requestsPerShape = ctx.smoke ? 5 : 60;
  const backend = await ctx.startBackend({});
  const db = knex({ client: 'pg', connection: ctx.databaseUrl });
  try {
    const users = await createUsers(ctx, backend.url, 'list', 20);
    const owners = await db('datasets')
      .whereIn(
        'id',
        users.map((u) => u.datasetId),
      )
      .select<{ id: string; user_id: string }[]>('id', 'user_id');
    await db.raw(
      `insert into jobs (id, user_id, dataset_id, framework, model, hyperparameters, status, request_hash,
                         epoch, total_epochs, latest_metrics, error_code, error_message,
                         created_at, updated_at, started_at, finished_at, attempt_started_at)
       select gen_random_uuid(), o.user_id, o.dataset_id,
              case when g.i % 2 = 0 then 'timm' else 'ultralytics' end,
              case when g.i % 2 = 0 then 'test_resnet' else 'yolo11n' end,
              '{"epochs": 10, "imgsz": 64, "batch": 16}'::jsonb,
              case when g.i % 20 = 0 then 'failed' when g.i % 50 = 1 then 'cancelled' else 'succeeded' end,
              'seeded', 10, 10, '{"val/top1": 71.5, "train/loss": 0.82}'::jsonb,
              case when g.i % 20 = 0 then 'framework_error' end,
              case when g.i % 20 = 0 then 'CUDA error: device-side assert triggered' end,
              now() - g.i * interval '1 minute', now(), now() - g.i * interval '1 minute',
              now() - g.i * interval '1 minute' + interval '10 minutes', now() - g.i * interval '1 minute'
         from generate_series(1, ?) g(i)
         join unnest(?::uuid[], ?::uuid[]) with ordinality o(user_id, dataset_id, k) on o.k = g.i % 20 + 1`,
      [total, owners.map((o) => o.user_id), owners.map((o) => o.id)],
    );
    await db.raw(
      `insert into job_attempts (job_id, attempt, first_seq, status, started_at, ended_at, error_code, error_message)
       select id, 1, 1, status, started_at, finished_at, error_code, error_message
         from jobs where request_hash = 'seeded'`,
    );
    await db.raw(
      `insert into artifacts (job_id, kind, uri, bytes, epoch, sha256)
       select j.id, k.kind, 's3://vtp/jobs/' || j.id || '/' || k.kind || '.pt', 5600000, 10, repeat('a', 64)
         from jobs j cross join (values ('best'), ('last')) k(kind)
        where j.request_hash = 'seeded' and j.status = 'succeeded'`,
    );
    await db.raw('analyze');
    ctx.say(`seeded ${total} jobs`);

    const user = (i: number) => users[i % users.length] as User;
    const get = async (path: string, i: number) => {
      const started = performance.now();
      const page = await call<{ items: unknown[]; nextCursor: string | null }>(`${backend.url}${path}`, {
        expect: 200,
        headers: user(i).auth,
      });
      return { ms: performance.now() - started, page };
    };
    // A cursor deep in each user's history: 20 pages of 50 in (fewer in a smoke run).
    const deepPages = Math.min(20, Math.floor(total / users.length / 50) - 1);
    const deep: string[] = [];
    for (let u = 0; u < users.length; u++) {
      let cursor: string | null = null;
      for (let page = 0; page < deepPages; page++) {
        cursor = (await get(`/v1/jobs?limit=50${cursor ? `&cursor=${cursor}` : ''}`, u)).page.nextCursor;
      }
      deep.push(cursor as string);
    }
    const shapes: [string, (i: number) => string][] = [
      ['first page', () => '/v1/jobs?limit=50'],
      ['by status', () => '/v1/jobs?limit=50&status=failed'],
      ['by status and framework', () => '/v1/jobs?limit=50&status=cancelled&framework=timm'],
      [`page ${deepPages + 1}`, (i) => `/v1/jobs?limit=50&cursor=${deep[i % users.length]}`],
      ['datasets', () => '/v1/datasets?limit=50'],
    ];
    const all: number[] = [];
    const byShape: string[] = [];
    for (const [name, path] of shapes) {
      const times: number[] = [];
      for (let i = 0; i < requestsPerShape; i++) times.push((await get(path(i), i)).ms);
      all.push(...times);
      byShape.push(`${name} ${percentile(times, 95).toFixed(1)}`);
    }
    const p95 = percentile(all, 95);
    ctx.say(`list endpoints over ${total} jobs, p95 ms: ${byShape.join(', ')}`);
    return [
      {
        name: `list endpoints with ${total.toLocaleString('en')} jobs in the table, p95 (pages of 50)`,
        value: `${p95.toFixed(1)} ms (${byShape.join(', ')})`,
        baseline: '-',
        ratio: p95,
        target: 50,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await db.destroy();
    await backend.stop();
  }
}

/**
 * One backend replica carrying thousands of running trainings, each reporting as a trainer does: a heartbeat
 * every `heartbeatMs` and a progress event per epoch, one request at a time per training.
 */
async function capacity(ctx: ScaleContext): Promise<ScaleRow[]> {
  const { sim } = ctx;
  const users = 20;
  const total = ctx.smoke ? 100 : 2000;
  const perUser = total / users;
  const heartbeatMs = Number(process.env.BENCH_HEARTBEAT_MS ?? (ctx.smoke ? 1000 : 15_000));
  const epochMs = ctx.smoke ? 2000 : 60_000;
  const windowMs = ctx.smoke ? 3000 : 60_000;
  const backend = await ctx.startBackend({
    MAX_JOBS_PER_FRAMEWORK: String(total),
    MAX_JOBS_PER_USER: String(perUser),
    MAX_QUEUED_JOBS_PER_USER: String(perUser),
  });
  const db = knex({ client: 'pg', connection: ctx.databaseUrl });
  try {
    const owners = await createUsers(ctx, backend.url, 'capacity', users);
    sim.plan = { epochs: 1000, epochMs, heartbeatMs, hold: true };
    const started = performance.now();
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          const at = next++;
          ids[at] = await createJob(backend.url, owners[at % users] as User);
        }
      }),
    );
    await waitUntil('every training to start', () => ids.every((id) => sim.acceptedAt.has(id)), 600_000);
    const rampSeconds = (performance.now() - started) / 1000;
    ctx.say(`${total} trainings running after ${rampSeconds.toFixed(1)} s`);
    // Steady state: every training past its first heartbeat.
    await sleep(heartbeatMs);
    sim.callbackLatencies.length = 0;
    sim.failedCallbacks = 0;
    sim.recording = true;
    let peakRss = 0;
    const windowEnd = Date.now() + windowMs;
    while (Date.now() < windowEnd) {
      peakRss = Math.max(peakRss, (await memoryOf(backend.pid)).rss);
      await sleep(1000);
    }
    sim.recording = false;
    const latencies = [...sim.callbackLatencies];
    const failed = sim.failedCallbacks;
    const p95 = percentile(latencies, 95);
    const perSecond = latencies.length / (windowMs / 1000);
    ctx.say(
      `${total} running: ${latencies.length} callbacks (${perSecond.toFixed(0)}/s), p95 ${p95.toFixed(1)} ms, ${failed} failed; backend RSS ${mib(peakRss)}`,
    );
    const scrape = await scrapeMetrics(backend.url);
    const passes = (loop: string) => {
      const name = 'vtp_control_loop_pass_duration_seconds';
      return {
        p95: histogramPercentile(scrape, name, { loop }, 95),
        count: scrape.sum(`${name}_count`, { loop }),
      };
    };
    const dispatcher = passes('dispatcher');
    const monitor = passes('monitor');
    ctx.say(`control loop passes, p95 at most: dispatcher ${dispatcher.p95} s, monitor ${monitor.p95} s`);
    await sim.finishAll();
    await waitUntil('every job to end', () => unfinished(db).then((n) => n === 0), 600_000);
    const skyPilot = "SkyPilot's published 600 running jobs per 16 GiB controller";
    return [
      {
        name: `capacity: ${total} running trainings on one backend (heartbeat every ${heartbeatMs / 1000} s, an epoch every ${epochMs / 1000} s), p95 callback latency`,
        value: `${p95.toFixed(1)} ms over ${latencies.length} callbacks (${perSecond.toFixed(0)}/s), ${failed} refused or failed`,
        baseline: skyPilot,
        ratio: failed === 0 ? p95 : Number.POSITIVE_INFINITY,
        target: 100,
        lowerIsBetter: true,
      },
      ...(
        [
          ['dispatcher', dispatcher],
          ['job monitor', monitor],
        ] as const
      ).map(([loop, { p95, count }]) => ({
        name: `capacity: ${total} running trainings, ${loop} pass p95 (bucket bound), ms`,
        value: `<= ${(p95 * 1000).toFixed(0)} ms over ${count} passes since the backend started`,
        baseline: '-',
        ratio: p95 * 1000,
        target: 100,
        lowerIsBetter: true,
      })),
      {
        name: `capacity: ${total} running trainings, backend resident memory (MiB)`,
        value: `${mib(peakRss)} peak`,
        baseline: skyPilot,
        ratio: peakRss / 1024 / 1024,
        target: 1024,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await db.destroy();
    await backend.stop();
  }
}

export async function measureDispatchAtScale(ctx: ScaleContext): Promise<ScaleRow[]> {
  return [
    ...(await dispatchLatency(ctx)),
    ...(await fairShares(ctx)),
    ...(await listsOverLargeTable(ctx)),
    ...(await capacity(ctx)),
  ];
}
