import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../src/paths.ts';
import { TRACKING_SERVER_ENV, testToolPath } from '../src/python-env/index.ts';

/** A real MLflow tracking server (`mlflow server`, artifacts served by itself) on a free port. */
export interface MlflowServer {
  url: string;
  /** GET or POST one of MLflow's REST calls (`runs/get?run_id=...`); throws on a non-2xx answer. */
  api<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  /** A run with its params, tags and latest metrics as plain maps. */
  run(runId: string): Promise<MlflowRunView>;
  /** Every logged value of a metric, oldest step first. */
  history(runId: string, key: string): Promise<Array<{ step: number; value: number }>>;
  /** Paths of every artifact file of the run, with their sizes. */
  artifacts(runId: string): Promise<Record<string, number>>;
  /** Live runs of an experiment carrying tag vtp.job_id = jobId. */
  runsOfJob(experimentName: string, jobId: string): Promise<string[]>;
  stop(): Promise<void>;
}

export interface MlflowRunView {
  runId: string;
  experimentId: string;
  status: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, number>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function mlflowExecutable(): string {
  const found = testToolPath(repoRoot, 'mlflow', process.env, TRACKING_SERVER_ENV);
  if (!found)
    throw new Error(
      'MLflow is not installed: run `npm test` from the repository root (it installs config/mlflow-requirements.txt) or `npm run python:env -- --test-tools`',
    );
  return found;
}

const toMap = (items: Array<{ key: string; value: string }> | undefined) =>
  Object.fromEntries((items ?? []).map((item) => [item.key, item.value]));

export interface MlflowServerOptions {
  /** Its run store (`postgresql://...`); default a SQLite file in its own folder. */
  backendStoreUri?: string;
  /** Its worker processes; default one (tests), MLflow's own default otherwise. */
  workers?: number | 'default';
}

export async function startMlflowServer(options: MlflowServerOptions = {}): Promise<MlflowServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vtp-mlflow-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Its own process group: the server's workers go with it.
  const child: ChildProcess = spawn(
    mlflowExecutable(),
    [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      ...(options.workers === 'default' ? [] : ['--workers', String(options.workers ?? 1)]),
      '--backend-store-uri',
      options.backendStoreUri ?? `sqlite:///${join(dir, 'mlflow.db')}`,
      '--artifacts-destination',
      join(dir, 'artifacts'),
    ],
    { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-(child.pid as number), 'SIGTERM');
      } catch {
        // Already gone.
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, 5_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}/api/2.0/mlflow/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`MLflow ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };

  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mlflow server exited: ${output}`);
      if (
        await fetch(`${url}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline) throw new Error(`mlflow server did not answer in 90 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const server: MlflowServer = {
    url,
    api,
    async run(runId) {
      const { run } = await api<{
        run: {
          info: { run_id: string; experiment_id: string; status: string };
          data: {
            params?: Array<{ key: string; value: string }>;
            tags?: Array<{ key: string; value: string }>;
            metrics?: Array<{ key: string; value: number }>;
          };
        };
      }>(`runs/get?${new URLSearchParams({ run_id: runId })}`);
      return {
        runId: run.info.run_id,
        experimentId: run.info.experiment_id,
        status: run.info.status,
        params: toMap(run.data.params),
        tags: toMap(run.data.tags),
        metrics: Object.fromEntries((run.data.metrics ?? []).map((m) => [m.key, m.value])),
      };
    },
    async history(runId, key) {
      const { metrics } = await api<{ metrics?: Array<{ step: number; value: number }> }>(
        `metrics/get-history?${new URLSearchParams({ run_id: runId, metric_key: key })}`,
      );
      return (metrics ?? [])
        .map(({ step, value }) => ({ step: Number(step), value }))
        .sort((a, b) => a.step - b.step);
    },
    async artifacts(runId) {
      const found: Record<string, number> = {};
      const walk = async (path: string | undefined): Promise<void> => {
        const query = new URLSearchParams({ run_id: runId, ...(path ? { path } : {}) });
        const { files } = await api<{ files?: Array<{ path: string; is_dir: boolean; file_size?: number }> }>(
          `artifacts/list?${query}`,
        );
        for (const file of files ?? []) {
          if (file.is_dir) await walk(file.path);
          else found[file.path] = Number(file.file_size);
        }
      };
      await walk(undefined);
      return found;
    },
    async runsOfJob(experimentName, jobId) {
      const { experiment } = await api<{ experiment: { experiment_id: string } }>(
        `experiments/get-by-name?${new URLSearchParams({ experiment_name: experimentName })}`,
      );
      const { runs } = await api<{ runs?: Array<{ info: { run_id: string } }> }>('runs/search', {
        experiment_ids: [experiment.experiment_id],
        filter: `tags.\`vtp.job_id\` = '${jobId}'`,
        run_view_type: 'ACTIVE_ONLY',
      });
      return (runs ?? []).map((run) => run.info.run_id);
    },
    stop,
  };
  return server;
}
