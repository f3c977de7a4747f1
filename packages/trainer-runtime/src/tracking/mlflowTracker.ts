import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@vtp/service-kit';
import type { Metrics, MlflowRunRef, TrainingStatus, TrainingTracking } from '@vtp/shared-schemas';
import {
  MlflowClient,
  type MlflowKeyValue,
  type MlflowMetric,
  type MlflowRunInfo,
  type MlflowRunStatus,
} from './mlflowClient.ts';

/** The tag that finds a job's run again: one run per job, every attempt logs to it. */
export const JOB_ID_TAG = 'vtp.job_id';

/** What a run records of the training it tracks. */
export interface TrackedTraining {
  jobId: string;
  attempt: number;
  framework: string;
  model: string;
  hyperparameters: Record<string, unknown>;
  dataset: { id?: string | undefined; sha256?: string | undefined; uri: string };
  /** Metrics of the epochs an earlier attempt trained (1..n), logged when the run is new to this attempt. */
  earlierEpochs: readonly Metrics[];
}

export interface MlflowTrackerDeps {
  logger: Logger;
  /** A folder of the tracker's own: artifacts wait there for their upload, after the job folder is gone. */
  stagingDir: string;
  /** The run is known: the backend links it from the job. */
  onRun: (run: MlflowRunRef) => void;
  /** A call to MLflow failed for good (the first one is worth telling the user). */
  onFailure: (message: string, failures: number) => void;
  client?: MlflowClient;
}

/** MLflow's limits: param values up to 6000 characters, keys up to 250, 100 params per log-batch. */
const MAX_PARAM_VALUE = 6000;
const MAX_KEY = 250;
const PARAMS_PER_BATCH = 100;
const METRICS_PER_BATCH = 1000;
/** Calls failing in a row after which MLflow is given up on for this training. */
const GIVE_UP_AFTER = 3;

const runStatusOf: Record<'succeeded' | 'failed' | 'cancelled', MlflowRunStatus> = {
  succeeded: 'FINISHED',
  failed: 'FAILED',
  cancelled: 'KILLED',
};

/** MLflow keys allow letters, digits, `_ - . / : ` and spaces (Ultralytics' `metrics/mAP50(B)` loses its brackets). */
export function mlflowKey(name: string): string {
  return name
    .replace(/[^/\w.\- :]/g, '')
    .replace(/\/{2,}/g, '/')
    .replace(/^[/.]+|\/+$/g, '')
    .slice(0, MAX_KEY);
}

function paramValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return (text ?? 'null').slice(0, MAX_PARAM_VALUE);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Logs one training attempt to MLflow: finds or creates the job's run, records parameters, every epoch's
 * metrics (the epoch as step), the best checkpoint and metrics.json, and ends the run with the attempt's
 * outcome. It never throws and never holds the training up: calls run one after another in the background,
 * failures are logged and counted, and after a few in a row MLflow is left alone for the rest of the training.
 */
export class MlflowTracker {
  private readonly target: TrainingTracking['mlflow'];
  private readonly training: TrackedTraining;
  private readonly deps: MlflowTrackerDeps;
  private readonly client: MlflowClient;
  private readonly logger: Logger;
  private queue: Promise<void> = Promise.resolve();
  private readonly opening: Promise<void>;
  private run: MlflowRunInfo | undefined;
  private gaveUp = false;
  private inARow = 0;
  private pendingMetrics: MlflowMetric[] = [];
  private staged = 0;
  private flushQueued = false;
  /** Calls to MLflow that failed for good. */
  failures = 0;

  constructor(target: TrainingTracking['mlflow'], training: TrackedTraining, deps: MlflowTrackerDeps) {
    this.target = target;
    this.training = training;
    this.deps = deps;
    this.client = deps.client ?? new MlflowClient(target.trackingUri);
    this.logger = deps.logger.child({ component: 'mlflow' });
    this.enqueue('open the run', () => this.open());
    this.opening = this.queue;
    this.enqueue('log the parameters', () => this.logParams());
  }

  /**
   * Waits, at most `ms`, until the run is open (or could not be): a training that ends first still gets to
   * report it, since its token dies with its terminal event.
   */
  async opened(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.opening, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** The runner started (its framework version becomes a tag). */
  started(frameworkVersion: string | undefined): void {
    if (!frameworkVersion) return;
    this.enqueue('tag the framework version', () =>
      this.client.logBatch(this.runId(), {
        tags: [{ key: 'vtp.framework_version', value: frameworkVersion }],
      }),
    );
  }

  epoch(epoch: number, metrics: Metrics): void {
    this.pendingMetrics.push(...this.metricsOf(epoch, metrics, Date.now()));
    if (this.flushQueued) return;
    this.flushQueued = true;
    // Epochs that come while MLflow is slow go together in the next batch.
    this.enqueue('log metrics', () => {
      this.flushQueued = false;
      const metrics = this.pendingMetrics.splice(0);
      return this.logMetrics(metrics);
    });
  }

  /**
   * Uploads a file of the training as the run's artifact `path`. The file is linked (or copied) into the staging
   * folder at once, so the training may delete its own while the upload waits its turn.
   */
  async artifact(file: string, path: string): Promise<void> {
    if (this.gaveUp) return;
    const staged = join(this.deps.stagingDir, `${this.staged++}-${path.replaceAll('/', '_')}`);
    try {
      await mkdir(this.deps.stagingDir, { recursive: true });
      await link(file, staged).catch(() => copyFile(file, staged));
    } catch (err) {
      this.failed(`keep ${path} for its upload`, err);
      return;
    }
    this.enqueue(`upload ${path}`, async () => {
      const run = this.run as MlflowRunInfo;
      if (!(await this.client.uploadArtifact(run, path, staged))) {
        this.logger.warn(
          { artifactUri: run.artifactUri, path },
          'the run keeps its artifacts where the tracking server does not serve them: not uploaded',
        );
      }
    });
  }

  /** Ends the run with the attempt's outcome once everything queued is done, and removes the staged files. */
  async end(status: TrainingStatus): Promise<void> {
    if (status === 'succeeded' || status === 'failed' || status === 'cancelled') {
      this.enqueue('end the run', () => this.client.updateRun(this.runId(), runStatusOf[status], Date.now()));
    }
    await this.queue;
    await rm(this.deps.stagingDir, { recursive: true, force: true }).catch((err) =>
      this.logger.warn({ err }, 'could not remove the staged MLflow artifacts'),
    );
  }

  private async open(): Promise<void> {
    const { target, training } = this;
    let run = target.runId ? await this.client.getRun(target.runId) : undefined;
    let isNew = false;
    if (!run) {
      const experimentId = await this.client.ensureExperiment(target.experimentName);
      // The run an earlier attempt created, even when its report of it never reached the backend.
      run = await this.client.findRunByTag(experimentId, JOB_ID_TAG, training.jobId);
      if (!run) {
        run = await this.client.createRun({
          experimentId,
          runName: `${training.framework}-${training.model}-${training.jobId.slice(0, 8)}`,
          startTime: Date.now(),
          tags: [
            { key: JOB_ID_TAG, value: training.jobId },
            { key: 'vtp.job_url', value: target.jobUrl },
            { key: 'vtp.framework', value: training.framework },
          ],
        });
        isNew = true;
      }
    }
    this.run = run;
    // Epochs an earlier attempt trained while MLflow was away (or before tracking was on) are back-filled.
    if (isNew && training.earlierEpochs.length > 0) {
      const at = Date.now();
      const earlier = training.earlierEpochs.flatMap((metrics, i) => this.metricsOf(i + 1, metrics, at));
      await this.logMetrics(earlier).catch((err) => this.failed('log the earlier epochs', err));
    }
    if (run.status !== 'RUNNING') await this.client.updateRun(run.runId, 'RUNNING');
    if (run.runId !== target.runId) this.deps.onRun({ experimentId: run.experimentId, runId: run.runId });
    this.logger.info({ runId: run.runId, experimentId: run.experimentId }, 'logging to MLflow');
  }

  /** Parameters never change in MLflow: a later attempt logs the same values again, which MLflow accepts. */
  private async logParams(): Promise<void> {
    const tags = [{ key: 'vtp.attempt', value: String(this.training.attempt) }];
    for (const [i, params] of chunks(this.params(), PARAMS_PER_BATCH).entries())
      await this.client.logBatch(this.runId(), { params, ...(i === 0 ? { tags } : {}) });
  }

  private params(): MlflowKeyValue[] {
    const { training } = this;
    const params: MlflowKeyValue[] = [
      { key: 'framework', value: training.framework },
      { key: 'model', value: training.model },
      { key: 'dataset.uri', value: training.dataset.uri },
      ...(training.dataset.id ? [{ key: 'dataset.id', value: training.dataset.id }] : []),
      ...(training.dataset.sha256 ? [{ key: 'dataset.sha256', value: training.dataset.sha256 }] : []),
    ];
    for (const [name, value] of Object.entries(training.hyperparameters)) {
      const key = mlflowKey(name);
      if (key && value !== undefined) params.push({ key, value: paramValue(value) });
    }
    return params;
  }

  private metricsOf(epoch: number, metrics: Metrics, timestamp: number): MlflowMetric[] {
    return Object.entries(metrics).flatMap(([name, value]) => {
      const key = mlflowKey(name);
      return key && Number.isFinite(value) ? [{ key, value, timestamp, step: epoch }] : [];
    });
  }

  private async logMetrics(metrics: readonly MlflowMetric[]): Promise<void> {
    for (const batch of chunks(metrics, METRICS_PER_BATCH))
      await this.client.logBatch(this.runId(), { metrics: batch });
  }

  private runId(): string {
    return (this.run as MlflowRunInfo).runId;
  }

  /** Runs `step` after the ones before it; skipped once MLflow was given up on or no run could be opened. */
  private enqueue(what: string, step: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.gaveUp || (!this.run && what !== 'open the run')) return;
      try {
        await step();
        this.inARow = 0;
      } catch (err) {
        this.failed(what, err);
      }
    });
  }

  private failed(what: string, err: unknown): void {
    this.failures += 1;
    this.inARow += 1;
    // Without a run there is nothing to log to; after a few failures in a row the server is away.
    this.gaveUp = !this.run || this.inARow >= GIVE_UP_AFTER;
    this.logger.warn(
      { err, failures: this.failures, gaveUp: this.gaveUp },
      `MLflow: could not ${what}; the training goes on`,
    );
    this.deps.onFailure(`MLflow tracking: could not ${what}: ${(err as Error).message}`, this.failures);
  }
}
