import { InputError } from '@vtp/service-kit';
import type { TrainerEvent } from '@vtp/shared-schemas';
import type { Knex } from 'knex';
import { hashSecret } from '../auth/secrets.ts';
import type { EventResult, JobMetrics } from '../observability/jobMetrics.ts';
import { checkCallbackToken } from './callbackToken.ts';
import { isRoutine, type JobEventStore } from './jobEventStore.ts';
import { isFinished, UNFINISHED } from './jobLifecycle.ts';
import { jobOutputPrefix } from './jobOutputs.ts';
import type { JobOutcome, JobRow, JobStore } from './jobStore.ts';
import { RoutineReportQueue } from './routineReportQueue.ts';

/** Job fields a batch of events changes, written in one update. */
type JobPatch = Record<string, unknown>;

/** Empties the patch, returning what it held. */
function takePatch(patch: JobPatch): JobPatch {
  const taken = { ...patch };
  for (const key of Object.keys(patch)) delete patch[key];
  return taken;
}

const isTerminalEvent = (event: TrainerEvent) =>
  event.type === 'completed' || event.type === 'failed' || event.type === 'cancelled';

/**
 * Applies trainer callbacks. Each event is stored once (its seq is the key); its effect on the job is applied
 * under a row lock and only forwards: a late or duplicate event never moves a job backwards, and nothing
 * changes a job once it is terminal.
 */
export class EventIngest {
  private readonly jobs: JobStore;
  private readonly events: JobEventStore;
  private readonly routine: RoutineReportQueue;
  private readonly bucket: string;
  private readonly metrics: JobMetrics;
  private readonly onJobEnded: () => void;
  private readonly onUnreferenced: (uris: string[]) => void;
  constructor(
    jobs: JobStore,
    events: JobEventStore,
    bucket: string,
    metrics: JobMetrics,
    hooks: { onJobEnded?: () => void; onUnreferenced?: (uris: string[]) => void } = {},
  ) {
    this.jobs = jobs;
    this.events = events;
    this.routine = new RoutineReportQueue(events);
    this.bucket = bucket;
    this.metrics = metrics;
    this.onJobEnded = hooks.onJobEnded ?? (() => undefined);
    this.onUnreferenced = hooks.onUnreferenced ?? (() => undefined);
  }

  /** Throws unless `token` is one of the unfinished job's callback tokens. */
  async authenticate(jobId: string, token: string): Promise<void> {
    checkCallbackToken(await this.jobs.find(jobId), token);
  }

  /**
   * Stores a trainer's events (in seq order) in one transaction under one lock of the job row, each with the
   * effect it has on its own; plain field changes are folded into one update. The routine reports of a running
   * job take one statement instead, shared with other jobs' reports that arrive meanwhile (RoutineReportQueue).
   * An event after the one that ends the attempt is refused unstored: its token dies with the attempt. `path`
   * names the body in errors: `body` for a single event, `body.events` for a batch.
   */
  async ingestBatch(
    jobId: string,
    token: string,
    events: readonly TrainerEvent[],
    path = 'body.events',
  ): Promise<{ seq: number; accepted: boolean }[]> {
    if (events.every(isRoutine)) {
      const report = await this.routine.submit({ jobId, tokenHash: hashSecret(token), events });
      if (report) {
        const { stored } = report;
        this.metrics.eventsReported(
          events.map((event) => ({ event, result: stored.has(event.seq) ? 'stored' : 'duplicate' })),
          new Date(),
        );
        if (report.firstEpochEndedAt) this.metrics.firstEpochEnded(report.job, report.firstEpochEndedAt);
        return events.map((event) => ({ seq: event.seq, accepted: stored.has(event.seq) }));
      }
    }
    const end = events.findIndex(isTerminalEvent);
    const live = end < 0 ? events : events.slice(0, end + 1);
    const unreferenced: string[] = [];
    let ended = false;
    // Events after the one that ends the attempt are never stored: ignored unless a live event says otherwise.
    const reported = events.map((event) => ({ event, result: 'ignored' as EventResult }));
    let firstEpoch: { job: JobRow; endedAt: Date } | undefined;
    const results = await this.jobs.db.transaction(async (trx) => {
      let job = checkCallbackToken(await this.jobs.lockForReport(jobId, trx), token);
      for (const [i, event] of events.entries())
        this.checkArtifacts(jobId, event, path === 'body' ? path : `${path}.${i}`);
      const stored = await this.events.insertReported(jobId, job.attempt, live, trx);
      const patch: JobPatch = {};
      const outcomes = events.map((event) => ({ seq: event.seq, accepted: false }));
      for (const [i, event] of live.entries()) {
        if (!stored.has(event.seq)) (reported[i] as { result: EventResult }).result = 'duplicate';
        if (!stored.has(event.seq) || isFinished(job.status)) continue;
        (outcomes[i] as { accepted: boolean }).accepted = true;
        (reported[i] as { result: EventResult }).result = 'stored';
        if (event.type === 'progress' && (await this.endsFirstEpoch(job, event.epoch, patch, trx)))
          firstEpoch = { job, endedAt: new Date(event.timestamp) };
        const effect = await this.apply(trx, job, event, patch);
        unreferenced.push(...effect.unreferenced);
        ended ||= isTerminalEvent(event);
        // The state machine moved the job: what follows is judged against its new row.
        if (effect.moved && i < live.length - 1) job = (await this.jobs.find(jobId, trx)) as JobRow;
      }
      await this.flush(trx, jobId, patch);
      return outcomes;
    });
    // Only once the transaction has committed: a rolled-back report must not take an object with it.
    this.metrics.eventsReported(reported, new Date());
    if (firstEpoch) this.metrics.firstEpochEnded(firstEpoch.job, firstEpoch.endedAt);
    if (unreferenced.length) this.onUnreferenced(unreferenced);
    if (ended) this.onJobEnded();
    return results;
  }

  /** Whether `epoch` is the first one the job's current attempt finished (it continues from its resume point). */
  private async endsFirstEpoch(job: JobRow, epoch: number, patch: JobPatch, trx: Knex): Promise<boolean> {
    const reached = (patch.epoch as number | undefined) ?? job.epoch;
    if (epoch <= reached) return false;
    const attempt = await this.jobs.currentAttempt(job, trx);
    return reached === (attempt?.resumed_from_epoch ?? 0);
  }

  /** A trainer reports only what it wrote under its job's prefix: a token for one job reaches no other object. */
  private checkArtifacts(jobId: string, event: TrainerEvent, path: string): void {
    if (!('artifacts' in event)) return;
    const prefix = jobOutputPrefix(this.bucket, jobId);
    const outside = event.artifacts.flatMap((artifact, index) =>
      artifact.uri.startsWith(prefix) && artifact.uri.length > prefix.length
        ? []
        : [{ path: `${path}.artifacts.${index}.uri`, message: `must lie under ${prefix}` }],
    );
    if (outside.length) throw new InputError('Artifacts must lie under the job output prefix', outside);
  }

  /**
   * Applies one event. Field changes go into `patch`, written once for the batch; a move of the state machine
   * is made at once (with the patch so far) and says so. Returns the artifact URIs it made unreferenced.
   */
  private async apply(
    trx: Knex.Transaction,
    job: JobRow,
    event: TrainerEvent,
    patch: JobPatch,
  ): Promise<{ moved: boolean; unreferenced: string[] }> {
    const none = { moved: false, unreferenced: [] };
    patch.last_heartbeat_at = new Date();
    switch (event.type) {
      case 'started':
        patch.total_epochs = event.totalEpochs;
        if (job.status === 'running') return none;
        await this.jobs.started(job, ['queued', 'dispatching'], takePatch(patch), trx);
        return { moved: true, unreferenced: [] };
      case 'progress': {
        // A progress report proves the training runs, even if its `started` event was lost.
        let moved = false;
        if (job.status !== 'running') {
          await this.jobs.started(job, ['queued', 'dispatching'], takePatch(patch), trx);
          moved = true;
        }
        if (event.epoch >= ((patch.epoch as number | undefined) ?? job.epoch)) {
          Object.assign(patch, {
            epoch: event.epoch,
            total_epochs: event.totalEpochs,
            latest_metrics: JSON.stringify(event.metrics),
          });
        }
        return { moved, unreferenced: [] };
      }
      case 'checkpoint':
        return { moved: false, unreferenced: await this.jobs.upsertArtifacts(job.id, event.artifacts, trx) };
      case 'heartbeat':
        Object.assign(patch, {
          ...(event.phase ? { phase: event.phase } : {}),
          ...(event.lastProgressAt ? { last_progress_at: new Date(event.lastProgressAt) } : {}),
          ...(event.stallLimitSeconds ? { stall_limit_seconds: event.stallLimitSeconds } : {}),
        });
        return none;
      case 'log':
        return none;
      case 'tracking':
        // The run the job's training logs to: its answer links it, and later attempts continue it.
        if (job.tracking)
          patch.tracking = JSON.stringify({ mlflow: { ...job.tracking.mlflow, ...event.mlflow } });
        return none;
      case 'completed':
      case 'failed':
      case 'cancelled': {
        await this.flush(trx, job.id, patch);
        const finished = await this.jobs.finish(job.id, UNFINISHED, outcomeOf(event), trx);
        return { moved: true, unreferenced: finished?.unreferenced ?? [] };
      }
    }
  }

  private async flush(trx: Knex.Transaction, jobId: string, patch: JobPatch): Promise<void> {
    if (Object.keys(patch).length > 0) await this.jobs.update(jobId, takePatch(patch), trx);
  }
}

/** How a trainer's terminal report ends the job's attempt. */
function outcomeOf(event: Extract<TrainerEvent, { type: 'completed' | 'failed' | 'cancelled' }>): JobOutcome {
  switch (event.type) {
    case 'completed':
      return { status: 'succeeded', artifacts: event.artifacts, metrics: event.metrics };
    case 'failed':
      return { status: 'failed', error: event.error, artifacts: event.artifacts };
    case 'cancelled':
      return { status: 'cancelled', artifacts: event.artifacts };
  }
}
