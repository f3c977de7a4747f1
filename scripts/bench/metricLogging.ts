// Per-epoch metric logging: the platform's callback ingest against an MLflow tracking server (PyPI `mlflow`,
// same machine, its store on the same PostgreSQL, its own default workers) receiving the same metrics through
// its REST `runs/log-batch`, at the same concurrency: one request per epoch, as both are fed while a training
// runs, and 50 epochs per request, as a backlog is.
import knex from 'knex';
import { startMlflowServer } from '../../packages/trainer-runtime/test/mlflowServer.ts';
import { rate } from './measure.ts';

export interface MetricLoggingRow {
  name: string;
  value: string;
  baseline: string;
  /** The platform's epochs per second over MLflow's. */
  ratio: number;
}

interface Context {
  /** The backend (dispatcher off: the jobs are moved by hand). */
  url: string;
  /** The PostgreSQL the backend stores in; MLflow gets a database of its own on it. */
  pgUrl: string;
  /** A running job and its callback token. */
  runningJob(): Promise<{ id: string; token: string }>;
  /** Epochs logged in the one-per-request measurement (ten times as many in the batched one). */
  epochs: number;
  /** Jobs (and MLflow runs) logged to at once, one request in flight each. */
  concurrency: number;
  say(line: string): void;
}

const BATCH_EPOCHS = 50;
/** Each side runs in this many alternating rounds: load from elsewhere on a shared machine hits both alike. */
const ROUNDS = 4;

/** What a YOLO training reports per epoch: 13 metrics (MLflow's key rules applied, as the trainer does). */
function epochMetrics(epoch: number): Record<string, number> {
  const names = [
    'train/box_loss',
    'train/cls_loss',
    'train/dfl_loss',
    'metrics/precisionB',
    'metrics/recallB',
    'metrics/mAP50B',
    'metrics/mAP50-95B',
    'val/box_loss',
    'val/cls_loss',
    'val/dfl_loss',
    'lr/pg0',
    'lr/pg1',
    'lr/pg2',
  ];
  return Object.fromEntries(names.map((name, i) => [name, (i + 1) / (epoch + 1)]));
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
}

export async function measureMetricLogging(c: Context): Promise<MetricLoggingRow[]> {
  const admin = knex({ client: 'pg', connection: c.pgUrl });
  const database = `mlflow_bench_${Date.now()}`;
  await admin.raw(`create database ${database}`);
  await admin.destroy();
  const store = new URL(c.pgUrl);
  // psycopg2, as config/mlflow-requirements.txt installs it (SQLAlchemy's plain postgresql:// may pick another).
  store.protocol = 'postgresql+psycopg2:';
  store.pathname = `/${database}`;
  c.say('starting an MLflow tracking server on the same PostgreSQL');
  const mlflow = await startMlflowServer({ backendStoreUri: store.toString(), workers: 'default' });
  try {
    const { experiment_id } = await mlflow.api<{ experiment_id: string }>('experiments/create', {
      name: 'bench',
    });
    const newRuns = () =>
      Promise.all(
        Array.from({ length: c.concurrency }, async (_, i) => {
          const { run } = await mlflow.api<{ run: { info: { run_id: string } } }>('runs/create', {
            experiment_id,
            run_name: `bench-${i}`,
            start_time: Date.now(),
          });
          return run.info.run_id;
        }),
      );
    const mlflowMetrics = (epoch: number) =>
      Object.entries(epochMetrics(epoch)).map(([key, value]) => ({
        key,
        value,
        timestamp: Date.now(),
        step: epoch,
      }));
    const progress = (epoch: number) => ({
      seq: epoch,
      type: 'progress',
      timestamp: new Date().toISOString(),
      epoch,
      totalEpochs: 1_000_000,
      metrics: epochMetrics(epoch),
    });
    const newJobs = () => Promise.all(Array.from({ length: c.concurrency }, () => c.runningJob()));
    // Request i logs epochs of stream i % concurrency, in order within each stream.
    const epochsOf = (i: number, perRequest: number) => {
      const first = Math.floor(i / c.concurrency) * perRequest + 1;
      return Array.from({ length: perRequest }, (_, k) => first + k);
    };

    const measure = async (perRequest: number, requests: number) => {
      const runs = await newRuns();
      const jobs = await newJobs();
      const perRound = Math.ceil(requests / ROUNDS / c.concurrency) * c.concurrency;
      let mlflowSeconds = 0;
      let platformSeconds = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        const offset = round * perRound;
        mlflowSeconds +=
          perRound /
          (await rate(perRound, c.concurrency, (i) =>
            post(`${mlflow.url}/api/2.0/mlflow/runs/log-batch`, {
              run_id: runs[i % c.concurrency],
              metrics: epochsOf(offset + i, perRequest).flatMap(mlflowMetrics),
            }),
          ));
        platformSeconds +=
          perRound /
          (await rate(perRound, c.concurrency, (i) => {
            const job = jobs[i % c.concurrency] as { id: string; token: string };
            const events = epochsOf(offset + i, perRequest).map(progress);
            return post(`${c.url}/v1/jobs/${job.id}/callback`, perRequest === 1 ? events[0] : { events }, {
              authorization: `Bearer ${job.token}`,
            });
          }));
      }
      const epochs = perRound * ROUNDS * perRequest;
      const mlflowRate = epochs / mlflowSeconds;
      const platformRate = epochs / platformSeconds;
      // Every epoch reached MLflow: a fast answer that stored nothing would not count.
      const logged = await mlflow.history(runs[0] as string, 'train/box_loss');
      const expected = (perRound * ROUNDS * perRequest) / c.concurrency;
      if (logged.length !== expected)
        throw new Error(`MLflow holds ${logged.length} epochs of run 0, not ${expected}`);
      c.say(
        `metric logging, ${perRequest} epoch(s) per request: platform ${platformRate.toFixed(0)}/s, MLflow ${mlflowRate.toFixed(0)}/s`,
      );
      return { platformRate, mlflowRate };
    };

    const single = await measure(1, c.epochs);
    const batched = await measure(BATCH_EPOCHS, Math.ceil((c.epochs * 10) / BATCH_EPOCHS));
    const row = (label: string, r: { platformRate: number; mlflowRate: number }, how: string) => ({
      name: `per-epoch metric logging (13 metrics), ${label}: epochs stored per second`,
      value: `${r.platformRate.toFixed(0)}/s callback ingest`,
      baseline: `${r.mlflowRate.toFixed(0)}/s MLflow ${how}`,
      ratio: r.platformRate / r.mlflowRate,
    });
    return [
      row('one epoch per request', single, 'log-batch'),
      row(`${BATCH_EPOCHS} epochs per request`, batched, `log-batch of ${BATCH_EPOCHS} epochs`),
    ];
  } finally {
    await mlflow.stop();
    const cleanup = knex({ client: 'pg', connection: c.pgUrl });
    await cleanup.raw(`drop database if exists ${database} with (force)`);
    await cleanup.destroy();
  }
}
