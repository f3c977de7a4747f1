// `npm run bench`: measures the backend's hot paths against baselines taken in the same run, on this machine,
// and prints ratios. Targets live here, not in timed unit tests: a miss prints "MISS" and sets exit code 1.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import { createLogger } from '@vtp/service-kit';
import { createS3Client, ensureBucket, startEmbeddedS3 } from '@vtp/service-kit/s3';
import knex from 'knex';
import { createVtpClient } from '../../packages/client/src/index.ts';
import { uploadDatasetFrom } from '../../packages/client/src/node/index.ts';
import { CallbackDelivery } from '../../packages/trainer-runtime/src/callbacks/callbackDelivery.ts';
import { CallbackSender } from '../../packages/trainer-runtime/src/callbacks/deliveryPolicy.ts';
import { createHttpClient } from '../../packages/trainer-runtime/src/callbacks/httpClient.ts';
import { Outbox } from '../../packages/trainer-runtime/src/callbacks/outbox.ts';
import { resolvePython } from '../../packages/trainer-runtime/src/python-env/index.ts';
import { generateSecret, hashSecret } from '../../services/backend/src/auth/secrets.ts';
import { postmasterPid, startEmbeddedPostgres } from '../../services/backend/src/embedded/postgres.ts';
import { TcpProxy } from '../../services/backend/test/support/tcpProxy.ts';
import { measureDispatchAtScale } from './dispatchAtScale.ts';
import { measureKubernetesScale } from './kubernetesScale.ts';
import { firstLine, memoryOf, mib, rate, resetPeak, timed } from './measure.ts';
import { measureMetricLogging } from './metricLogging.ts';
import { treeCpuSeconds } from './processCpu.ts';
import { SimulatedTrainer } from './simulatedTrainer.ts';
import { measureTrainingOverhead, stopDirectRuns } from './trainingOverhead.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const ADMIN = 'bench-admin-key-0123456789abcdef';
const TRAINER_TOKEN = 'bench-trainer-token-0123456789abcdef';
const results: {
  name: string;
  value: string;
  baseline: string;
  ratio: number;
  target: string;
  ok: boolean;
}[] = [];
const record = (
  name: string,
  value: string,
  baseline: string,
  ratio: number,
  target: number,
  lowerIsBetter = true,
) =>
  results.push({
    name,
    value,
    baseline,
    ratio,
    target: `${lowerIsBetter ? '<=' : '>='} ${target}`,
    ok: lowerIsBetter ? ratio <= target : ratio >= target,
  });
/** Rows that could not run here, and why (the GPU rows without a CUDA device). */
const skipped: { name: string; why: string }[] = [];
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
// `--smoke` (CI): every measurement at a size too small for its target to mean anything, so the bench cannot
// rot; a miss does not fail it, a crash does.
const smoke = process.argv.includes('--smoke');
const size = (variable: string, full: number, small: number) =>
  Number(process.env[variable] ?? (smoke ? small : full));
// `--only api,scale,training`: some of the sections (the API's hot paths, dispatch at scale, training overhead).
const SECTIONS = ['api', 'scale', 'training'] as const;
const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
const only = process.argv.includes('--only') ? (onlyArg ?? '').split(',') : [...SECTIONS];
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`--only takes ${SECTIONS.join(', ')}; got "${name}"`);
}
const wanted = (section: (typeof SECTIONS)[number]) => only.includes(section);

const dir = await mkdtemp(join(tmpdir(), 'vtp-bench-'));
// Run as root, the embedded PostgreSQL (as the postgres user) must be able to enter the bench's folder.
await chmod(dir, 0o755);
const logger = createLogger('bench', 'warn');
const pg = await startEmbeddedPostgres(join(dir, 'pg'), logger);
const s3server = await startEmbeddedS3(join(dir, 's3'));
/** The backend as its own process on the bench's database and object store. */
const startBackend = (port: number, env: Record<string, string>) =>
  spawn(process.execPath, [join(repoRoot, 'services/backend/src/main.ts')], {
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: pg.url,
      S3_ENDPOINT: s3server.endpoint,
      AWS_ACCESS_KEY_ID: s3server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3server.secretAccessKey,
      ADMIN_API_KEY: ADMIN,
      // A bench killed outright (SIGKILL runs no handler) takes its backend, and so its trainers, with it.
      EXIT_WITH_PARENT: 'true',
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
const ready = async (url: string) => {
  while (
    !(await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  )
    await new Promise((r) => setTimeout(r, 200));
};
const stopped = (child: ReturnType<typeof startBackend>) =>
  child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r).kill('SIGTERM'));
let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    stopDirectRuns();
    await stopped(backend);
    await s3server.stop();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  })());
// Stopped half-way (Ctrl-C), the bench still takes down what it started: the embedded servers outlive it
// otherwise.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping what the bench started`);
    void cleanUp().finally(() => process.exit(130));
  });
}
const port = 18000 + Math.floor(Math.random() * 1000);
const url = `http://127.0.0.1:${port}`;
// The API's own rows run without the dispatcher: their jobs are moved by hand.
let backend = startBackend(port, { RUN_DISPATCHER: 'false' });
try {
  await ready(url);
  const pid = backend.pid as number;
  const key = (
    (await (
      await fetch(`${url}/v1/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'bench@example.com' }),
      })
    ).json()) as { key: string }
  ).key;
  const auth = { authorization: `Bearer ${key}` };
  const vtp = createVtpClient({ baseUrl: url, apiKey: key });

  if (wanted('api')) {
    // 1. Dataset upload: streamed to S3 and checked there, against a plain multipart upload of the same bytes; and
    // its memory against an upload half the size: a bounded pipeline grows no more for the larger file.
    const perClass = size('BENCH_IMAGES_PER_CLASS', 1500, 20);
    const s3 = createS3Client({ ...s3server, region: 'us-east-1', forcePathStyle: true });
    await ensureBucket(s3, 'bench-baseline');
    const uploadDataset = async (imagesPerClass: number) => {
      const zip = await zipBuffer(
        generateImagefolder({ seed: 3, imageSize: 160, trainPerClass: imagesPerClass, valPerClass: 10 })
          .entries,
      );
      // Uploaded as users upload: a .zip on disk, sent by the platform's own client (as `vtp datasets upload`).
      const file = join(dir, `upload-${imagesPerClass}.zip`);
      await writeFile(file, zip);
      const before = await memoryOf(pid);
      await resetPeak(pid);
      const { ms, value } = await timed(() =>
        uploadDatasetFrom(vtp, file, { name: 'bench', format: 'imagefolder' }),
      );
      await rm(file);
      const growth = Math.max(0, (await memoryOf(pid)).peak - before.rss);
      say(`uploaded ${mib(zip.length)} in ${ms.toFixed(0)} ms; backend peak memory +${mib(growth)}`);
      return { zip, ms, growth, id: value.id };
    };
    const half = await uploadDataset(Math.round(perClass / 2));
    const full = await uploadDataset(perClass);
    const baseline = await timed(() =>
      new Upload({
        client: s3,
        params: { Bucket: 'bench-baseline', Key: 'raw.zip', Body: full.zip },
        partSize: 8 * 1024 * 1024,
        queueSize: 2,
      }).done(),
    );
    // The platform writes a known length in one request: the same, done directly, is shown beside it.
    const single = await timed(() =>
      s3.send(new PutObjectCommand({ Bucket: 'bench-baseline', Key: 'raw-single.zip', Body: full.zip })),
    );
    const mbps = (ms: number) => `${(full.zip.length / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s`;
    record(
      `dataset upload + check of ${mib(full.zip.length)}, time`,
      `${full.ms.toFixed(0)} ms (${mbps(full.ms)})`,
      `${baseline.ms.toFixed(0)} ms raw multipart S3 upload (${mbps(baseline.ms)}); a single PutObject ${single.ms.toFixed(0)} ms (${mbps(single.ms)})`,
      full.ms / baseline.ms,
      // At least 0.8x the raw upload's throughput.
      1.25,
    );
    record(
      'dataset upload, backend peak memory growth (MiB)',
      `+${mib(full.growth)} for ${mib(full.zip.length)}`,
      `+${mib(half.growth)} for ${mib(half.zip.length)} (the first upload, half the size)`,
      full.growth / 1024 / 1024,
      64,
    );

    // 2. Trainer callbacks: stored events per second, single and batched, against a bare express route doing one
    // INSERT into the same PostgreSQL at the same concurrency; and a backlog drained after an outage.
    const db = knex({ client: 'pg', connection: pg.url });
    /** A running job and its callback token, as a hand-over leaves them. */
    const runningJob = async () => {
      const job = (await (
        await fetch(`${url}/v1/jobs`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ framework: 'timm', model: 'test_resnet', datasetId: full.id }),
        })
      ).json()) as { id: string };
      const token = generateSecret('vtpcb');
      await db('jobs')
        .where({ id: job.id })
        .update({ status: 'running', callback_token_hashes: [hashSecret(token)] });
      return { id: job.id, token };
    };
    const progressEvent = (seq: number) => ({
      seq,
      type: 'progress',
      timestamp: new Date().toISOString(),
      epoch: seq,
      totalEpochs: 1_000_000,
      metrics: { 'train/loss': 1 / seq, 'val/top1': seq % 100 },
    });
    const CONCURRENCY = 8;
    const count = size('BENCH_EVENTS', 4000, 200);
    const bare = spawn(process.execPath, [join(repoRoot, 'scripts/bench/bareInsertServer.ts')], {
      env: { ...process.env, DATABASE_URL: pg.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const bareUrl = await firstLine(bare);
      const bareJobs = Array.from({ length: CONCURRENCY }, () => crypto.randomUUID());
      const bareRate = await rate(count, CONCURRENCY, async (i) => {
        const res = await fetch(`${bareUrl}/events/${bareJobs[i % CONCURRENCY]}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(progressEvent(Math.floor(i / CONCURRENCY) + 1)),
        });
        await res.arrayBuffer();
      });
      // One job per stream, as trainers report: each job's events go in order.
      const singleJobs = await Promise.all(Array.from({ length: CONCURRENCY }, runningJob));
      const singleRate = await rate(count, CONCURRENCY, async (i) => {
        const job = singleJobs[i % CONCURRENCY] as { id: string; token: string };
        const res = await fetch(`${url}/v1/jobs/${job.id}/callback`, {
          method: 'POST',
          headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(progressEvent(Math.floor(i / CONCURRENCY) + 1)),
        });
        if (res.status !== 200) throw new Error(`callback refused: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      });
      record(
        'callback events stored per second, one event per request',
        `${singleRate.toFixed(0)}/s`,
        `${bareRate.toFixed(0)}/s bare express + INSERT`,
        singleRate / bareRate,
        0.7,
        false,
      );
      const BATCH = 100;
      const batchJobs = await Promise.all(Array.from({ length: CONCURRENCY }, runningJob));
      const requests = Math.ceil((count * 5) / BATCH);
      const batchRate =
        (await rate(requests, CONCURRENCY, async (i) => {
          const job = batchJobs[i % CONCURRENCY] as { id: string; token: string };
          const first = Math.floor(i / CONCURRENCY) * BATCH + 1;
          const events = Array.from({ length: BATCH }, (_, k) => progressEvent(first + k));
          const res = await fetch(`${url}/v1/jobs/${job.id}/callback`, {
            method: 'POST',
            headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          if (res.status !== 200) throw new Error(`batch refused: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        })) * BATCH;
      record(
        `callback events stored per second, batches of ${BATCH}`,
        `${batchRate.toFixed(0)}/s`,
        `${bareRate.toFixed(0)}/s bare express + INSERT`,
        batchRate / bareRate,
        5,
        false,
      );
    } finally {
      bare.kill('SIGTERM');
    }

    // 3. A backlog: the trainer's own delivery (outbox on disk) queues events while the backend is unreachable,
    // then drains them once it is back.
    const BACKLOG = size('BENCH_BACKLOG', 10_000, 500);
    const backlogJob = await runningJob();
    const gate = new TcpProxy({ host: '127.0.0.1', port });
    gate.mode = 'refuse';
    const gatePort = await gate.start();
    const outboxDir = join(dir, 'outbox');
    const delivery = new CallbackDelivery({
      sender: new CallbackSender(createHttpClient()),
      outbox: new Outbox(outboxDir),
      logger,
    });
    try {
      const target = {
        url: `http://127.0.0.1:${gatePort}/v1/jobs/${backlogJob.id}/callback`,
        token: backlogJob.token,
      };
      for (let epoch = 1; epoch <= BACKLOG; epoch++) {
        delivery.send(backlogJob.id, target, {
          type: 'progress',
          epoch,
          totalEpochs: BACKLOG,
          metrics: { loss: 1 / epoch },
        });
      }
      while ((await readdir(outboxDir).catch(() => [])).length === 0)
        await new Promise((r) => setTimeout(r, 50));
      gate.mode = 'forward';
      const drain = await timed(() => delivery.drain(120_000));
      const stored = await db('job_events').where({ job_id: backlogJob.id }).orderBy('seq').pluck('seq');
      const inOrder = stored.length === BACKLOG && stored.every((seq: number, i: number) => seq === i + 1);
      say(
        `backlog: ${stored.length} of ${BACKLOG} stored ${inOrder ? 'in order' : 'NOT in order'} in ${drain.ms.toFixed(0)} ms`,
      );
      record(
        `backlog of ${BACKLOG} events queued during an outage, drained after it`,
        `${(drain.ms / 1000).toFixed(1)} s, ${stored.length} stored${inOrder ? ', in order' : ', NOT ALL IN ORDER'}`,
        '-',
        drain.value && inOrder ? drain.ms / 1000 : Number.POSITIVE_INFINITY,
        10,
      );
    } finally {
      await delivery.close();
      await gate.stop();
    }
    // Per-epoch metric logging against an MLflow tracking server fed the same metrics (metricLogging.ts).
    for (const row of await measureMetricLogging({
      url,
      pgUrl: pg.url,
      runningJob,
      epochs: size('BENCH_METRIC_EPOCHS', 2000, 100),
      concurrency: 8,
      say,
    })) {
      record(row.name, row.value, row.baseline, row.ratio, 5, false);
    }
    // The jobs moved by hand above end here, or the next backend's monitor would retry them as lost and train them.
    await db('jobs')
      .whereNot({ status: 'succeeded' })
      .update({ status: 'cancelled', callback_token_hashes: [] });
    await db.destroy();
    s3.destroy();
  }

  if (wanted('scale')) {
    // 4. Dispatch at scale, against a simulated trainer (real protocols, no Python): latency, fair shares, the
    // list endpoints over a large jobs table, and thousands of running trainings on one backend.
    await stopped(backend);
    const sim = new SimulatedTrainer(TRAINER_TOKEN);
    const simUrl = await sim.start();
    let scalePort = port + 2;
    try {
      for (const row of await measureDispatchAtScale({
        startBackend: async (env) => {
          const scaleUrl = `http://127.0.0.1:${scalePort}`;
          const child = startBackend(scalePort++, {
            RUN_DISPATCHER: 'true',
            TRAINER_URLS: `ultralytics=${simUrl},timm=${simUrl}`,
            TRAINER_TOKEN,
            ...env,
          });
          backend = child;
          await ready(scaleUrl);
          return { url: scaleUrl, pid: child.pid as number, stop: () => stopped(child) };
        },
        sim,
        databaseUrl: pg.url,
        adminKey: ADMIN,
        smoke,
        say,
      })) {
        record(row.name, row.value, row.baseline, row.ratio, row.target, row.lowerIsBetter);
      }
    } finally {
      await sim.stop();
    }
    for (const row of await measureKubernetesScale({ repoRoot, dir, smoke, say })) {
      record(row.name, row.value, row.baseline, row.ratio, row.target, row.lowerIsBetter);
    }
  }

  if (wanted('training')) {
    // 5. Job wall time through the platform (dispatcher on, local trainers kept warm) against the same training
    // run directly, at two epoch counts.
    await stopped(backend);
    const trainingUrl = `http://127.0.0.1:${port + 1}`;
    const trainingBackend = startBackend(port + 1, { RUN_DISPATCHER: 'true', MAX_JOBS_PER_FRAMEWORK: '1' });
    backend = trainingBackend;
    await ready(trainingUrl);
    const epochs = smoke ? ([1, 2] as const) : ([2, 6] as const);
    const python = resolvePython(repoRoot);
    const postmaster = postmasterPid(join(dir, 'pg', 'postgres'));
    if (postmaster === undefined) throw new Error('the embedded PostgreSQL wrote no postmaster.pid');
    if (!python) throw new Error('No Python environment for the trainers: run `npm run python:env` first');
    const overhead = await measureTrainingOverhead({
      repoRoot,
      vtp: createVtpClient({ baseUrl: trainingUrl, apiKey: key }),
      // The backend with its trainer services, PostgreSQL with its connections, and this process (the object
      // store runs in it); the trainings (Python: the runners and their zygotes) are left out.
      platformCpuSeconds: async () => {
        const self = process.cpuUsage();
        return (
          (await treeCpuSeconds([trainingBackend.pid as number, postmaster], (name) =>
            name.startsWith('python'),
          )) +
          (self.user + self.system) / 1e6
        );
      },
      python,
      dir,
      epochs,
      images: size('BENCH_TRAIN_IMAGES', 256, 16),
      repeats: size('BENCH_REPEATS', 3, 1),
      say,
    });
    if (overhead.every((row) => row.device === 'cpu'))
      skipped.push({
        name: 'job wall time on CUDA (AMP and loader workers on), both frameworks',
        why: 'no CUDA device',
      });
    for (const row of overhead) {
      const seconds = (t: readonly [number, number]) => `${t[0].toFixed(1)} s / ${t[1].toFixed(1)} s`;
      const perEpoch = (s: number) => `${s.toFixed(2)} s per epoch`;
      record(
        `${row.framework} job wall time on ${row.device.toUpperCase()}, ${epochs[0]} / ${epochs[1]} epochs: per-epoch overhead`,
        `${perEpoch(row.epochSeconds[0])} (jobs ${seconds(row.platformSeconds)}); the platform's processes used ${(row.platformCpuPerEpoch * 1000).toFixed(0)} ms of CPU per epoch, ${(row.platformCpuShare * 100).toFixed(1)} % of the machine, storing ${mib(row.checkpointBytesPerEpoch)} of checkpoints`,
        `${perEpoch(row.epochSeconds[1])} run directly (${seconds(row.directSeconds)})`,
        row.perEpochOverhead,
        0.02,
      );
      record(
        `${row.framework} job wall time on ${row.device.toUpperCase()}: fixed overhead on a warm trainer, seconds`,
        `${row.fixedOverheadSeconds.toFixed(2)} s`,
        '-',
        row.fixedOverheadSeconds,
        1.5,
      );
    }
  }
} finally {
  await cleanUp();
}

process.stdout.write(
  '\n| measurement | value | baseline (same run) | ratio | target | |\n| --- | --- | --- | --- | --- | --- |\n',
);
for (const r of results) {
  process.stdout.write(
    `| ${r.name} | ${r.value} | ${r.baseline} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.ok ? 'ok' : 'MISS'} |\n`,
  );
}
for (const r of skipped) process.stdout.write(`| ${r.name} | skipped: ${r.why} | - | - | - | skipped |\n`);
if (smoke) process.stdout.write('\n(smoke run: sizes too small for the targets; misses do not fail it)\n');
process.exitCode = smoke || results.every((r) => r.ok) ? 0 : 1;
