import type { ArtifactKind } from '@vtp/shared-schemas';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a trainer downloads: the dataset, or a checkpoint (initial weights, an earlier attempt's to resume). */
export type DownloadedObject = 'dataset' | 'checkpoint';

/** What became of one callback HTTP request (a single attempt of a delivery). */
export type CallbackRequestOutcome = 'delivered' | 'rejected' | 'failed';

export type CircuitStateName = 'closed' | 'open' | 'half_open' | 'isolated';

/** How a runner ended, from its outcome: completed, cancelled, or failed with its failure code. */
export interface RunnerExitOutcome {
  type: 'completed' | 'cancelled' | 'failed';
  error?: { code: string };
}

/** What the gauges read at scrape time. */
export interface TrainerState {
  activeTrainings(): number;
  pendingEvents(): number;
  oldestPendingEventAt(): Date | undefined;
  circuitStates(): CircuitStateName[];
}

const TRANSFER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/**
 * A trainer's metrics, on its own registry (the HTTP metrics join it): transfers, runner exits and callback
 * delivery, observed where they happen; active trainings, the outbox and the circuit breakers read at scrape
 * time. Labels are bounded (object, artifact kind, outcome, failure code, circuit state): never a job id.
 */
export class TrainerMetrics {
  readonly registry: Registry;
  private readonly downloadBytes: Counter<'object'>;
  private readonly downloadDuration: Histogram<'object'>;
  private readonly extractBytes: Counter;
  private readonly extractDuration: Histogram;
  private readonly uploadBytes: Counter<'kind'>;
  private readonly uploadDuration: Histogram<'kind'>;
  private readonly runnerExits: Counter<'outcome' | 'reason'>;
  private readonly callbackRequests: Counter<'outcome'>;
  private readonly trackingFailures: Counter;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.downloadBytes = new Counter({
      name: 'vtp_trainer_download_bytes_total',
      help: 'Bytes downloaded from object storage, by object (dataset, checkpoint)',
      labelNames: ['object'],
      registers,
    });
    this.downloadDuration = new Histogram({
      name: 'vtp_trainer_download_duration_seconds',
      help: 'Duration of one download from object storage, by object',
      labelNames: ['object'],
      buckets: TRANSFER_BUCKETS,
      registers,
    });
    this.extractBytes = new Counter({
      name: 'vtp_trainer_dataset_extracted_bytes_total',
      help: 'Bytes written extracting datasets',
      registers,
    });
    this.extractDuration = new Histogram({
      name: 'vtp_trainer_dataset_extract_duration_seconds',
      help: 'Duration of extracting one dataset archive',
      buckets: TRANSFER_BUCKETS,
      registers,
    });
    this.uploadBytes = new Counter({
      name: 'vtp_trainer_artifact_upload_bytes_total',
      help: 'Bytes of artifacts uploaded to object storage, by kind (best, last, metrics, log, onnx)',
      labelNames: ['kind'],
      registers,
    });
    this.uploadDuration = new Histogram({
      name: 'vtp_trainer_artifact_upload_duration_seconds',
      help: 'Duration of one artifact upload, by kind',
      labelNames: ['kind'],
      buckets: TRANSFER_BUCKETS,
      registers,
    });
    this.runnerExits = new Counter({
      name: 'vtp_trainer_runner_exits_total',
      help: 'Runners that ended, by outcome (completed, cancelled, failed) and failure code ("none" otherwise)',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.callbackRequests = new Counter({
      name: 'vtp_trainer_callback_requests_total',
      help: 'Callback HTTP requests to the backend: delivered (2xx), rejected (4xx), failed (5xx, 429, no answer)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['delivered', 'rejected', 'failed'] as const)
      this.callbackRequests.inc({ outcome }, 0);
    this.trackingFailures = new Counter({
      name: 'vtp_trainer_tracking_failures_total',
      help: 'Experiment-tracker (MLflow) calls that failed after their retries; the training goes on regardless',
      registers,
    });
  }

  /** Registers the gauges that `state` answers at every scrape. */
  track(state: TrainerState): void {
    const registers = [this.registry];
    new Gauge({
      name: 'vtp_trainer_active_trainings',
      help: 'Trainings running (or starting) now',
      registers,
      collect() {
        this.set(state.activeTrainings());
      },
    });
    new Gauge({
      name: 'vtp_trainer_pending_callback_events',
      help: 'Callback events not yet delivered to the backend (in memory or in the outbox)',
      registers,
      collect() {
        this.set(state.pendingEvents());
      },
    });
    new Gauge({
      name: 'vtp_trainer_oldest_pending_callback_event_age_seconds',
      help: 'How long the oldest undelivered callback event has waited (0 when none waits)',
      registers,
      collect() {
        const oldest = state.oldestPendingEventAt();
        this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
      },
    });
    new Gauge({
      name: 'vtp_trainer_callback_circuits',
      help: 'Circuit breakers of the backend origins this trainer reports to, by state',
      labelNames: ['state'],
      registers,
      collect() {
        const states = state.circuitStates();
        for (const name of ['closed', 'open', 'half_open', 'isolated'] as const)
          this.set({ state: name }, states.filter((s) => s === name).length);
      },
    });
  }

  downloaded(object: DownloadedObject, bytes: number, seconds: number): void {
    this.downloadBytes.inc({ object }, bytes);
    this.downloadDuration.observe({ object }, seconds);
  }

  extracted(bytes: number, seconds: number): void {
    this.extractBytes.inc(bytes);
    this.extractDuration.observe(seconds);
  }

  uploaded(kind: ArtifactKind, bytes: number, seconds: number): void {
    this.uploadBytes.inc({ kind }, bytes);
    this.uploadDuration.observe({ kind }, seconds);
  }

  runnerExited(outcome: RunnerExitOutcome): void {
    this.runnerExits.inc({ outcome: outcome.type, reason: outcome.error?.code ?? 'none' });
  }

  callbackRequest(outcome: CallbackRequestOutcome): void {
    this.callbackRequests.inc({ outcome });
  }

  trackingFailed(): void {
    this.trackingFailures.inc();
  }
}
