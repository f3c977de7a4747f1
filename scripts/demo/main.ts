// `npm run demo`: the platform's main job end to end, for real, on this machine. Prepares the Python
// environment, starts the backend on its embedded defaults, uploads two generated datasets, trains a YOLO
// detector and a timm classifier, shows live progress, prints the results, checks each model's held-out score
// against its target (exit code 1 below it), and stops everything.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createVtpClient, type DatasetFormat, type Job, unwrap } from '@vtp/client';
import { type DatasetEntry, generateImagefolder, generateYolo, zipBuffer } from '@vtp/sample-data';
import { preparePythonEnv } from '../../packages/trainer-runtime/src/python-env/index.ts';
import { href as consoleHref } from '../../packages/web-console/src/route.ts';
import { startPlatform } from './platform.ts';
import { applyEvent, applyJob, type JobView, renderLine } from './progress.ts';
import {
  classification,
  classificationData,
  detection,
  detectionData,
  type Training,
  verdicts,
} from './recipe.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const dataDir = join(repoRoot, '.data', 'demo');
const tty = process.stdout.isTTY;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const say = (line: string) => process.stdout.write(`[demo ${elapsed().padStart(4)}] ${line}\n`);

/**
 * Set once the platform runs: a signal cancels the demo's jobs (the platform would otherwise retry them, as
 * interrupted, at its next start: in the next demo) and stops the platform before the demo exits (a SIGKILL leaves
 * it to EXIT_WITH_PARENT).
 */
let interrupt: (() => Promise<void>) | undefined;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    say(`${signal}: cancelling the demo's jobs and stopping the platform`);
    void (interrupt?.() ?? Promise.resolve()).finally(() => process.exit(code));
  });
}

async function main(): Promise<number> {
  say('preparing the Python environment (cached after the first run)');
  const python = await preparePythonEnv(repoRoot, {
    onProgress: ({ step, message }) => say(`  python-env ${step}: ${message}`),
  });
  say(
    `  ${Object.entries(python.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );

  await mkdir(dataDir, { recursive: true });
  say(`starting the platform (embedded PostgreSQL and S3 under ${dataDir})`);
  const backendLog: string[] = [];
  const platform = await startPlatform(repoRoot, dataDir, (line) => backendLog.push(line));
  interrupt = () => platform.stop();
  const admin = createVtpClient({ baseUrl: platform.url, apiKey: platform.adminKey });
  // The demo user's key is printed (to sign in to the console): it is revoked when the demo ends.
  let keyId: string | undefined;
  try {
    say(`backend ready at ${platform.url}`);
    const { id, key } = unwrap(
      await admin.api.POST('/v1/api-keys', {
        body: { user: 'demo@example.com', name: `demo-${Date.now()}` },
      }),
    );
    keyId = id;
    const vtp = createVtpClient({ baseUrl: platform.url, apiKey: key });

    const upload = async (name: string, format: DatasetFormat, entries: DatasetEntry[]) => {
      const zip = await zipBuffer(entries);
      const dataset = await vtp.uploadDataset({
        name,
        format,
        file: new Blob([new Uint8Array(zip)]),
        filename: `${name}.zip`,
      });
      say(
        `uploaded ${format} dataset "${name}": ${dataset.classNames.length} classes, ${dataset.imageCounts.train} train / ${dataset.imageCounts.val} val images, ${dataset.bytes} bytes`,
      );
      return dataset;
    };
    const shapes = await upload(detection.datasetName, 'yolo', generateYolo(detectionData).entries);
    const colours = await upload(
      classification.datasetName,
      'imagefolder',
      generateImagefolder(classificationData).entries,
    );

    const jobs: { training: Training; job: Job }[] = [];
    interrupt = async () => {
      await Promise.allSettled(
        jobs.map(({ job }) =>
          vtp.api.POST('/v1/jobs/{id}/cancel', {
            params: { path: { id: job.id } },
            signal: AbortSignal.timeout(10_000),
          }),
        ),
      );
      await platform.stop();
    };
    for (const { training, dataset } of [
      { training: detection, dataset: shapes },
      { training: classification, dataset: colours },
    ]) {
      const job = unwrap(
        await vtp.api.POST('/v1/jobs', { body: { ...training.job, datasetId: dataset.id } }),
      );
      jobs.push({ training, job });
    }
    const views: JobView[] = jobs.map(({ training, job }) => ({
      label: training.label,
      status: job.status,
      epoch: 0,
      totalEpochs: 0,
      metrics: {},
    }));
    say(`training ${jobs.length} jobs (live progress from their event streams)`);
    // The console needs the demo user's key to sign in; it lives only as long as this demo's platform.
    say(
      `while it runs, the web console shows them live: ${platform.url}/${consoleHref.compare(jobs.map(({ job }) => job.id))} (sign in with ${key})`,
    );

    let drawn = 0;
    const draw = (final = false) => {
      if (!tty && !final) return;
      if (tty && drawn) process.stdout.write(`\x1b[${drawn}A`);
      for (const [i, view] of views.entries())
        process.stdout.write(
          `${tty ? '\x1b[2K' : ''}${renderLine(view, jobs[i]?.training.progressKeys ?? [])}\n`,
        );
      drawn = views.length;
    };
    const follow = async (index: number) => {
      const { job, training } = jobs[index] as (typeof jobs)[number];
      const view = views[index] as JobView;
      for await (const event of vtp.followJob(job.id)) {
        applyEvent(view, event);
        if (tty) draw();
        else if (event.type === 'progress' || event.type === 'started')
          say(renderLine(view, training.progressKeys));
      }
    };
    await Promise.all(jobs.map((_, i) => follow(i)));

    const finals = await Promise.all(
      jobs.map(async ({ job }) =>
        unwrap(await vtp.api.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } })),
      ),
    );
    for (const [i, job] of finals.entries()) applyJob(views[i] as JobView, job);
    draw(true);
    say('results:');
    for (const job of finals) {
      const trained =
        job.startedAt && job.finishedAt
          ? `, ${((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000).toFixed(0)} s from start to end`
          : '';
      say(
        `  ${job.framework}/${job.model}: ${job.status}${trained}${job.error ? ` (${job.error.code}: ${job.error.message})` : ''}`,
      );
      for (const [name, value] of Object.entries(job.latestMetrics ?? {}))
        say(`      ${name} = ${value.toFixed(4)}`);
      for (const artifact of job.artifacts)
        say(`      ${artifact.kind.padEnd(7)} ${artifact.uri} (${artifact.bytes} bytes)`);
    }
    if (!finals.every((j) => j.status === 'succeeded')) {
      say('a job did not succeed; the backend log ends with:');
      for (const line of backendLog.slice(-20)) process.stdout.write(`    ${line}\n`);
    }

    const onnx = finals.flatMap((job) => job.artifacts.filter((artifact) => artifact.kind === 'onnx'));
    for (const model of onnx) say(`ONNX model: ${model.uri} (${model.bytes} bytes, sha256 ${model.sha256})`);
    const exported = onnx.length > 0;
    if (!exported) say('the detector was not exported to ONNX (its job log says why)');

    const scores = verdicts(jobs.map(({ training }, i) => ({ training, job: finals[i] as Job })));
    say('held-out scores (val split, never trained on; best epoch):');
    for (const { training, value, met } of scores)
      say(
        `  ${training.label.padEnd(22)} ${training.metric} = ${value === undefined ? 'missing' : training.format(value)} (target >= ${training.format(training.target)}) ${met ? 'ok' : 'BELOW TARGET'}`,
      );
    const ok = scores.every((s) => s.met) && exported;
    return ok ? 0 : 1;
  } finally {
    if (keyId)
      await admin.api
        .DELETE('/v1/api-keys/{id}', { params: { path: { id: keyId } }, signal: AbortSignal.timeout(10_000) })
        .catch(() => undefined);
    say('stopping the platform');
    await platform.stop();
    say(`done in ${elapsed()}`);
  }
}

process.exitCode = await main().catch((err: Error) => {
  process.stderr.write(`[demo] failed: ${err.message}\n`);
  return 1;
});
