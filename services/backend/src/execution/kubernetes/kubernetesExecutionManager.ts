import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  Log,
  PatchStrategy,
  setHeaderOptions,
  type V1Job,
} from '@kubernetes/client-node';
import { type Logger, UnavailableError } from '@vtp/service-kit';
import {
  type JobError,
  type TrainingStartRequestBody,
  type WeightsCheckRequestBody,
  WeightsCheckResponseBody,
} from '@vtp/shared-schemas';
import {
  type ExecutionManager,
  type ExecutionState,
  ExecutorBusyError,
  type PlacedJob,
  type Placement,
  TrainingRejectedError,
} from '../executionManager.ts';
import type { ClusterFailure, FailureTiming } from './clusterFailures.ts';
import {
  ATTEMPT_LABEL,
  attemptOf,
  buildCallbackSecret,
  buildTrainingJob,
  buildWeightsCheckJob,
  CONTAINER_NAME,
  JOB_ID_LABEL,
  ownedByJob,
  PLATFORM_SELECTOR,
  type TrainingJobSettings,
  trainingJobName,
} from './trainingJob.ts';
import { TrainingWatch } from './trainingWatch.ts';

export interface KubernetesExecutionOptions {
  kubeConfig: KubeConfig;
  settings: TrainingJobSettings;
  timing: FailureTiming;
  logger: Logger;
  /** The cluster ended a training its trainer could not report on; the backend fails the job with it. */
  onClusterFailure(training: { jobId: string; attempt: number }, error: JobError): void;
  recheckIntervalMs?: number;
  /** A weights check's own limit; its Job gets this plus the deadline slack, and its pod's start on top. */
  weightsCheckTimeoutSeconds: number;
  /** How often a weights check's Job is looked at while it runs. */
  weightsCheckPollMs?: number;
}

export interface ReconcileReport {
  /** Active jobs whose Job is still there: the watch follows them again. */
  adopted: string[];
  /** Running jobs whose Job is gone: failed as lost. */
  lost: string[];
  /** Jobs (by Kubernetes name) whose platform job is no longer active: deleted. */
  deleted: string[];
}

/** A quota that is full now frees up as other trainings end: the job waits in the queue. */
const QUOTA_RETRY_SECONDS = 30;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function apiStatus(err: unknown): { code: number; message: string } | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
  const message =
    body && typeof body === 'object' && 'message' in body && typeof body.message === 'string'
      ? body.message
      : `HTTP ${err.code}`;
  return { code: err.code, message };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isNotFound(err: unknown): boolean {
  return apiStatus(err)?.code === 404;
}

function hasEnded(job: V1Job) {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

/** Errors of the client carry the whole response; only the API's own message is worth passing on. */
function describe(err: unknown): Error {
  const status = apiStatus(err);
  return status ? new Error(`Kubernetes API answered ${status.code}: ${status.message}`) : (err as Error);
}

/**
 * EXECUTION_MODE=kubernetes: each training is a batch/v1 Job with one hardened pod running the trainer's `run`
 * entry point. The callback token travels in a per-job Secret owned by the Job; a watch reports what the
 * cluster does to a training that its trainer cannot (image, scheduling, OOM, eviction, deadline).
 */
export class KubernetesExecutionManager implements ExecutionManager {
  private readonly options: KubernetesExecutionOptions;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly watcher: TrainingWatch;

  constructor(options: KubernetesExecutionOptions) {
    this.options = options;
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.watcher = new TrainingWatch({
      kubeConfig: options.kubeConfig,
      namespace: options.settings.namespace,
      timing: options.timing,
      logger: options.logger,
      recheckIntervalMs: options.recheckIntervalMs,
      onFailure: (training, jobName, failure) => this.clusterFailed(training, jobName, failure),
    });
  }

  private get namespace(): string {
    return this.options.settings.namespace;
  }

  /** Starts following the training Jobs; resolves once the current ones are known. */
  watch(): Promise<void> {
    return this.watcher.start();
  }

  /**
   * A short Job of the framework's trainer image (`check-weights`) checks the file; its verdict is the last line
   * of its pod's log. The Job is deleted once read; one that outlives the limit (its pod never started, say) is
   * deleted and the check answered as unavailable, not as a verdict on the file.
   */
  async checkWeights(request: WeightsCheckRequestBody): Promise<WeightsCheckResponseBody> {
    const name = `vtp-weights-${randomUUID().slice(0, 18)}`;
    const { weightsCheckTimeoutSeconds, weightsCheckPollMs = 500 } = this.options;
    const body = buildWeightsCheckJob(request, name, this.options.settings, weightsCheckTimeoutSeconds);
    // Whatever keeps the check from running (a full quota, the API away) is the platform's trouble, not the
    // file's: the upload is answered 503 and may be sent again.
    const unavailable = (err: unknown) =>
      err instanceof UnavailableError
        ? err
        : new UnavailableError(
            `The ${request.framework} weights check could not run: ${describe(err).message}`,
            QUOTA_RETRY_SECONDS,
            'weights_check_unavailable',
          );
    try {
      await this.batch.createNamespacedJob({ namespace: this.namespace, body });
    } catch (err) {
      throw unavailable(err);
    }
    try {
      // The pod's start (image pull, scheduling) comes on top of the check's own limit.
      const deadline =
        Date.now() + (weightsCheckTimeoutSeconds + this.options.settings.deadlineSlackSeconds) * 1000;
      for (;;) {
        const job = await this.batch.readNamespacedJob({ name, namespace: this.namespace });
        if (hasEnded(job)) break;
        if (Date.now() > deadline) {
          throw new UnavailableError(
            `The ${request.framework} weights check did not finish in time (Job ${name})`,
            60,
            'weights_check_unavailable',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, weightsCheckPollMs));
      }
      const verdict = await this.verdictOf(name);
      if (verdict) return verdict;
      throw new UnavailableError(
        `The ${request.framework} weights check (Job ${name}) ended without a verdict`,
        60,
        'weights_check_unavailable',
      );
    } catch (err) {
      throw unavailable(err);
    } finally {
      await this.deleteJob(name).catch((err) =>
        this.options.logger.warn({ err, job: name }, 'could not delete a weights check Job'),
      );
    }
  }

  private async verdictOf(jobName: string): Promise<WeightsCheckResponseBody | undefined> {
    const pods = await this.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: `job-name=${jobName}`,
    });
    const pod = pods.items[0]?.metadata?.name;
    if (!pod) return undefined;
    const log = await this.core.readNamespacedPodLog({
      name: pod,
      namespace: this.namespace,
      container: CONTAINER_NAME,
      tailLines: 20,
    });
    for (const line of log.trim().split('\n').reverse()) {
      try {
        const parsed = WeightsCheckResponseBody.safeParse(JSON.parse(line));
        if (parsed.success) return parsed.data;
      } catch {
        // a log line of the trainer, not the verdict
      }
    }
    return undefined;
  }

  async start(job: PlacedJob, spec: TrainingStartRequestBody): Promise<Placement> {
    const body = buildTrainingJob(spec, job, this.options.settings);
    const jobName = body.metadata?.name as string;
    const secret = buildCallbackSecret(jobName, spec, this.options.settings);
    const secretName = secret.metadata?.name as string;
    try {
      // The Secret first: a pod never starts without its token. Each hand-over issues a new token, so a
      // Secret left by an earlier attempt gets the current one (a pod that has not started yet picks it up).
      await this.core.createNamespacedSecret({ namespace: this.namespace, body: secret }).catch((err) => {
        if (apiStatus(err)?.code !== 409) throw err;
        return this.core.patchNamespacedSecret(
          { name: secretName, namespace: this.namespace, body: { data: secret.data } },
          mergePatch,
        );
      });
      const created = await this.createOrAdopt(body, spec.jobId);
      await this.core.patchNamespacedSecret(
        { name: secretName, namespace: this.namespace, body: ownedByJob(created) },
        mergePatch,
      );
    } catch (err) {
      throw this.refusal(err) ?? describe(err);
    }
    return { mode: 'kubernetes', namespace: this.namespace, jobName };
  }

  /** A Job of this very platform job already exists (an earlier hand-over got that far): it is the training. */
  private async createOrAdopt(body: V1Job, jobId: string): Promise<V1Job> {
    try {
      return await this.batch.createNamespacedJob({ namespace: this.namespace, body });
    } catch (err) {
      if (apiStatus(err)?.code !== 409) throw err;
      const name = body.metadata?.name as string;
      const existing = await this.batch.readNamespacedJob({ name, namespace: this.namespace });
      if (existing.metadata?.labels?.[JOB_ID_LABEL] !== jobId)
        throw new Error(`Job ${name} exists and belongs to another training`);
      if (hasEnded(existing)) {
        // Its pod ran with an older token and is over: this hand-over fails, the next one starts afresh.
        await this.deleteJob(name);
        throw new Error(`Job ${name} of an earlier hand-over had already ended; deleted it`);
      }
      this.options.logger.info({ job_id: jobId, jobName: name }, 'adopted the existing Kubernetes Job');
      return existing;
    }
  }

  /** What the API refuses for good (400, 403, 422) fails the job; a full quota only postpones it. */
  private refusal(err: unknown): Error | undefined {
    const status = apiStatus(err);
    if (status?.code === 403 && /exceeded quota/i.test(status.message))
      return new ExecutorBusyError(`The training namespace is full: ${status.message}`, QUOTA_RETRY_SECONDS);
    if (status?.code === 403)
      return new TrainingRejectedError(
        `The cluster refused the training: ${status.message}`,
        'trainer_unavailable',
      );
    if (status?.code === 422 || status?.code === 400)
      return new TrainingRejectedError(`The cluster refused the training Job: ${status.message}`);
    return undefined;
  }

  private jobName(job: PlacedJob): string {
    const placed = job.placement?.jobName;
    return typeof placed === 'string' ? placed : trainingJobName(job.id, job.attempt);
  }

  /** Deleting the Job stops its pod (SIGTERM, then the grace period): the trainer reports `cancelled`. */
  async cancel(job: PlacedJob): Promise<void> {
    await this.deleteJob(this.jobName(job));
  }

  async status(job: PlacedJob): Promise<ExecutionState> {
    let found: V1Job;
    try {
      found = await this.batch.readNamespacedJob({ name: this.jobName(job), namespace: this.namespace });
    } catch (err) {
      if (isNotFound(err)) return { kind: 'unknown' };
      return { kind: 'unreachable', reason: describe(err).message };
    }
    const ended = hasEnded(found);
    if (!ended) return { kind: 'active' };
    const at = ended.lastTransitionTime ? { at: new Date(ended.lastTransitionTime) } : {};
    if (ended.type === 'Complete') return { kind: 'finished', outcome: 'succeeded', ...at };
    return {
      kind: 'finished',
      outcome: 'failed',
      error: {
        code: 'lost',
        message: `The Kubernetes Job ${this.jobName(job)} failed (${ended.reason ?? 'no reason given'}) and its trainer's report never arrived`,
      },
      ...at,
    };
  }

  async logs(job: PlacedJob, options: { follow: boolean }): Promise<Readable | undefined> {
    const pods = await this.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: `${JOB_ID_LABEL}=${job.id},${ATTEMPT_LABEL}=${job.attempt}`,
    });
    const newest = pods.items
      .filter((p) => p.metadata?.name)
      .sort(
        (a, b) =>
          new Date(b.metadata?.creationTimestamp ?? 0).getTime() -
          new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
      )[0];
    if (!newest) return undefined;
    const out = new PassThrough();
    // The client pipes the response into `out`; when that ends or breaks, so does the caller's stream.
    out.on('unpipe', () => {
      if (!out.writableEnded) out.end();
    });
    try {
      const request = await new Log(this.options.kubeConfig).log(
        this.namespace,
        newest.metadata?.name as string,
        CONTAINER_NAME,
        out,
        { follow: options.follow },
      );
      out.on('close', () => request.abort());
    } catch (err) {
      // 400: the container has not started yet, so there is no log to show.
      const status = apiStatus(err);
      if (status?.code !== 400 && status?.code !== 404)
        this.options.logger.warn({ job_id: job.id, status }, 'could not read the training pod log');
      out.destroy();
      return undefined;
    }
    return out;
  }

  /** The Job (and with it its pod and callback Secret) is deleted; its log is kept in object storage. */
  async cleanup(job: PlacedJob): Promise<void> {
    await this.deleteJob(this.jobName(job));
  }

  private async deleteJob(name: string): Promise<void> {
    try {
      // Background: the Job goes now, the garbage collector takes its pod and Secret after it.
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.namespace,
        propagationPolicy: 'Background',
      });
    } catch (err) {
      if (!isNotFound(err)) throw describe(err);
    }
  }

  private clusterFailed(
    training: { jobId: string; attempt: number },
    jobName: string,
    failure: ClusterFailure,
  ): void {
    // Often the trainer has already reported (it always does before exiting): the backend's guarded update
    // then changes nothing, so this is no news yet.
    this.options.logger.debug(
      { ...training, jobName, error: failure.error },
      'cluster outcome of a training',
    );
    this.options.onClusterFailure(training, failure.error);
    if (failure.release) {
      this.deleteJob(jobName).catch((err) =>
        this.options.logger.error({ err, ...training, jobName }, 'could not delete a Job that cannot start'),
      );
    }
  }

  /**
   * Start-up: matches the cluster with the database. The cluster is listed BEFORE the active jobs are read, so a
   * Job another replica creates meanwhile is never taken for a leftover.
   */
  async reconcile(listActiveJobs: () => Promise<PlacedJob[]>): Promise<ReconcileReport> {
    const [jobs, secrets] = await Promise.all([
      this.batch.listNamespacedJob({ namespace: this.namespace, labelSelector: PLATFORM_SELECTOR }),
      this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector: PLATFORM_SELECTOR }),
    ]).catch((err) => {
      throw describe(err);
    });
    const active = await listActiveJobs();
    const activeIds = new Set(active.map((j) => j.id));
    const current = new Set(active.map((j) => `${j.id}#${j.attempt}`));
    const trainingOf = (job: V1Job) => `${job.metadata?.labels?.[JOB_ID_LABEL]}#${attemptOf(job)}`;
    const inCluster = new Set(jobs.items.map(trainingOf));
    const report: ReconcileReport = { adopted: [], lost: [], deleted: [] };
    for (const job of active) {
      if (inCluster.has(`${job.id}#${job.attempt}`)) report.adopted.push(job.id);
      // A job still being handed over may not have its Job yet; the job monitor re-queues it if it never comes.
      else if (job.status === 'running') {
        report.lost.push(job.id);
        this.options.onClusterFailure(
          { jobId: job.id, attempt: job.attempt },
          {
            code: 'lost',
            message:
              'The Kubernetes Job of the training is gone (deleted, or expired while the backend was down)',
          },
        );
      }
    }
    for (const job of jobs.items) {
      const name = job.metadata?.name;
      // The Jobs of ended platform jobs, and of earlier attempts of running ones, go.
      if (!name || current.has(trainingOf(job))) continue;
      await this.deleteJob(name);
      report.deleted.push(name);
    }
    // A Secret whose hand-over stopped before its Job existed has no owner to take it away.
    for (const secret of secrets.items) {
      const name = secret.metadata?.name;
      if (!name || secret.metadata?.ownerReferences?.length) continue;
      if (activeIds.has(secret.metadata?.labels?.[JOB_ID_LABEL] ?? '')) continue;
      await this.core
        .deleteNamespacedSecret({ name, namespace: this.namespace })
        .catch((err) => isNotFound(err) || Promise.reject(describe(err)));
    }
    this.options.logger.info(report, 'reconciled training Jobs with the cluster');
    return report;
  }

  async stop(): Promise<void> {
    await this.watcher.stop();
  }
}
