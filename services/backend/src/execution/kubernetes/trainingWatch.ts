import {
  BatchV1Api,
  CoreV1Api,
  type Informer,
  type KubeConfig,
  makeInformer,
  type ObjectCache,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from '@vtp/service-kit';
import { type ClusterFailure, clusterFailure, type FailureTiming, pullFailureOf } from './clusterFailures.ts';
import { attemptOf, JOB_ID_LABEL, PLATFORM_SELECTOR } from './trainingJob.ts';

export interface TrainingWatchOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  timing: FailureTiming;
  logger: Logger;
  /** Called once per Job with what the cluster says about the training. */
  onFailure(training: { jobId: string; attempt: number }, jobName: string, failure: ClusterFailure): void;
  /** How often the trainings are looked at again: grace periods run out without any event. */
  recheckIntervalMs?: number;
}

type Cached<T extends V1Job | V1Pod> = Informer<T> & ObjectCache<T>;

const RESTART_DELAY_MS = 2000;

/**
 * Informers on the platform's Jobs and pods in the training namespace. Every change (and a periodic re-check)
 * runs the pure `clusterFailure` on the training concerned; each Job's failure is reported once.
 */
export class TrainingWatch {
  private readonly options: TrainingWatchOptions;
  private readonly jobs: Cached<V1Job>;
  private readonly pods: Cached<V1Pod>;
  private readonly reported = new Set<string>();
  /** Pod uid -> when its image pull was first seen failing; the API gives no timestamp for it. */
  private readonly pullFailingSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: TrainingWatchOptions) {
    this.options = options;
    const { kubeConfig, namespace } = options;
    const batch = kubeConfig.makeApiClient(BatchV1Api);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    this.jobs = makeInformer(
      kubeConfig,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      () => batch.listNamespacedJob({ namespace, labelSelector: PLATFORM_SELECTOR }),
      PLATFORM_SELECTOR,
    );
    this.pods = makeInformer(
      kubeConfig,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: PLATFORM_SELECTOR }),
      PLATFORM_SELECTOR,
    );
    this.jobs.on('add', (job) => this.assess(job));
    this.jobs.on('update', (job) => this.assess(job));
    this.jobs.on('delete', (job) => this.reported.delete(job.metadata?.uid ?? ''));
    this.pods.on('add', (pod) => this.podChanged(pod));
    this.pods.on('update', (pod) => this.podChanged(pod));
    this.pods.on('delete', (pod) => this.pullFailingSince.delete(pod.metadata?.uid ?? ''));
    this.restartOnError('jobs', this.jobs);
    this.restartOnError('pods', this.pods);
  }

  /** Resolves once both informers listed what exists; the watches then run until `stop`. */
  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all([this.pods.start(), this.jobs.start()]);
    this.timer = setInterval(() => this.assessAll(), this.options.recheckIntervalMs ?? 1000);
    this.timer.unref();
    this.assessAll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([this.jobs.stop(), this.pods.stop()]);
  }

  /** The informer gives up on an error other than an expired resourceVersion; it is started again here. */
  private restartOnError<T extends V1Job | V1Pod>(name: string, informer: Cached<T>): void {
    informer.on('error', (err) => {
      if (this.stopped) return;
      this.options.logger.warn({ err, informer: name }, 'kubernetes watch failed; restarting it');
      setTimeout(() => {
        // A failed start emits 'error' again, which schedules the next try.
        if (!this.stopped) informer.start().catch(() => undefined);
      }, RESTART_DELAY_MS).unref();
    });
  }

  private podChanged(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (!pullFailureOf(pod)) this.pullFailingSince.delete(uid);
    else if (!this.pullFailingSince.has(uid)) this.pullFailingSince.set(uid, Date.now());
    const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'Job');
    const job = owner && this.jobs.get(owner.name, this.options.namespace);
    if (job) this.assess(job);
  }

  private assessAll(): void {
    for (const job of this.jobs.list(this.options.namespace)) this.assess(job);
  }

  private assess(job: V1Job): void {
    const uid = job.metadata?.uid;
    const jobId = job.metadata?.labels?.[JOB_ID_LABEL];
    const name = job.metadata?.name;
    if (!uid || !jobId || !name || this.reported.has(uid)) return;
    const pods = this.pods
      .list(this.options.namespace)
      .filter((p) => p.metadata?.ownerReferences?.some((o) => o.uid === uid));
    const failure = clusterFailure(job, pods, Date.now(), this.options.timing, (pod) =>
      this.pullFailingSince.get(pod.metadata?.uid ?? ''),
    );
    if (!failure) return;
    this.reported.add(uid);
    this.options.onFailure({ jobId, attempt: attemptOf(job) }, name, failure);
  }
}
