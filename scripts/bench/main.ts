// `npm run bench`: measures the backend's hot paths against baselines taken in the same run, on this machine,
// and prints ratios. Targets live here, not in timed unit tests: a miss prints "MISS" and sets exit code 1.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import { createLogger } from '@vtp/service-kit';
import { createS3Client, ensureBucket, startEmbeddedS3 } from '@vtp/service-kit/s3';
import knex from 'knex';
import { generateSecret, hashSecret } from '../../services/backend/src/auth/secrets.ts';
import { startEmbeddedPostgres } from '../../services/backend/src/embedded/postgres.ts';
import { memoryOf, mib, rate, resetPeak, timed } from './measure.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const ADMIN = 'bench-admin-key-0123456789abcdef';
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
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const dir = await mkdtemp(join(tmpdir(), 'vtp-bench-'));
// Run as root, the embedded PostgreSQL (as the postgres user) must be able to enter the bench's folder.
await chmod(dir, 0o755);
const logger = createLogger('bench', 'warn');
const pg = await startEmbeddedPostgres(join(dir, 'pg'), logger);
const s3server = await startEmbeddedS3(join(dir, 's3'));
const port = 18000 + Math.floor(Math.random() * 1000);
const url = `http://127.0.0.1:${port}`;
const backend = spawn(process.execPath, [join(repoRoot, 'services/backend/src/main.ts')], {
  env: {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: pg.url,
    S3_ENDPOINT: s3server.endpoint,
    AWS_ACCESS_KEY_ID: s3server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3server.secretAccessKey,
    ADMIN_API_KEY: ADMIN,
    RUN_DISPATCHER: 'false',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  while (
    !(await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  )
    await new Promise((r) => setTimeout(r, 200));
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

  // 1. Dataset upload: streamed to S3 and checked there, against a plain multipart upload of the same bytes; and
  // its memory against an upload half the size: a bounded pipeline grows no more for the larger file.
  const perClass = Number(process.env.BENCH_IMAGES_PER_CLASS ?? 1500);
  const s3 = createS3Client({ ...s3server, region: 'us-east-1', forcePathStyle: true });
  await ensureBucket(s3, 'bench-baseline');
  const uploadDataset = async (imagesPerClass: number) => {
    const zip = await zipBuffer(
      generateImagefolder({ seed: 3, imageSize: 160, trainPerClass: imagesPerClass, valPerClass: 10 })
        .entries,
    );
    const before = await memoryOf(pid);
    await resetPeak(pid);
    const form = new FormData();
    form.set('name', 'bench');
    form.set('format', 'imagefolder');
    form.set('file', new Blob([new Uint8Array(zip)]), 'bench.zip');
    const { ms, value } = await timed(async () => {
      const res = await fetch(`${url}/v1/datasets`, { method: 'POST', headers: auth, body: form });
      if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string };
    });
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
  const mbps = (ms: number) => `${(full.zip.length / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s`;
  record(
    `dataset upload + check of ${mib(full.zip.length)}, time`,
    `${full.ms.toFixed(0)} ms (${mbps(full.ms)})`,
    `${baseline.ms.toFixed(0)} ms raw S3 upload (${mbps(baseline.ms)})`,
    full.ms / baseline.ms,
    3,
  );
  record(
    'dataset upload, backend peak memory growth: full size vs half size',
    `+${mib(full.growth)} for ${mib(full.zip.length)}`,
    `+${mib(half.growth)} for ${mib(half.zip.length)}`,
    full.growth / Math.max(half.growth, 1),
    1.5,
  );
  const upload = { value: { id: full.id } };

  // 2. Trainer callbacks: stored events per second, against the backend's cheapest authenticated read.
  const job = (await (
    await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ framework: 'timm', model: 'test_resnet', datasetId: upload.value.id }),
    })
  ).json()) as { id: string };
  const token = generateSecret('vtpcb');
  const db = knex({ client: 'pg', connection: pg.url });
  await db('jobs')
    .where({ id: job.id })
    .update({ status: 'running', callback_token_hashes: [hashSecret(token)] });
  await db.destroy();
  const count = Number(process.env.BENCH_EVENTS ?? 2000);
  const readRate = await rate(count, 8, async () => {
    await (await fetch(`${url}/v1/models`, { headers: auth })).arrayBuffer();
  });
  const eventRate = await rate(count, 8, async (i) => {
    const res = await fetch(`${url}/v1/jobs/${job.id}/callback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        seq: i + 1,
        type: 'progress',
        timestamp: new Date().toISOString(),
        epoch: i + 1,
        totalEpochs: count,
        metrics: { loss: 1 / (i + 1) },
      }),
    });
    await res.arrayBuffer();
  });
  record(
    'callback events stored per second',
    `${eventRate.toFixed(0)}/s`,
    `${readRate.toFixed(0)}/s GET /v1/models`,
    eventRate / readRate,
    0.2,
    false,
  );
  s3.destroy();
} finally {
  backend.kill('SIGTERM');
  await new Promise((r) => backend.once('exit', r));
  await s3server.stop();
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}

process.stdout.write(
  '\n| measurement | value | baseline (same run) | ratio | target | |\n| --- | --- | --- | --- | --- | --- |\n',
);
for (const r of results) {
  process.stdout.write(
    `| ${r.name} | ${r.value} | ${r.baseline} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.ok ? 'ok' : 'MISS'} |\n`,
  );
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
