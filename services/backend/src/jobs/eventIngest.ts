import { InputError } from '@vtp/service-kit';
import type { TrainerEvent } from '@vtp/shared-schemas';
import type { Knex } from 'knex';
import { checkCallbackToken } from './callbackToken.ts';
import type { JobEventStore } from './jobEventStore.ts';
import { isFinished, UNFINISHED } from './jobLifecycle.ts';
import { jobOutputPrefix } from './jobOutputs.ts';
import type { JobOutcome, JobRow, JobStore } from './jobStore.ts';

/**
 * Applies trainer callbacks. Each event is stored once (its seq is the key); its effect on the job is applied
 * under a row lock and only forwards: a late or duplicate event never moves a job backwards, and nothing
 * changes a job once it is terminal.
 */
export class EventIngest {
  private readonly jobs: JobStore;
  private readonly events: JobEventStore;
  private readonly bucket: string;
  private readonly onJobEnded: () => void;
  private readonly onUnreferenced: (uris: string[]) => void;
  constructor(
    jobs: JobStore,
    events: JobEventStore,
    bucket: string,
    hooks: { onJobEnded?: () => void; onUnreferenced?: (uris: string[]) => void } = {},
  ) {
    this.jobs = jobs;
    this.events = events;
    this.bucket = bucket;
    this.onJobEnded = hooks.onJobEnded ?? (() => undefined);
    this.onUnreferenced = hooks.onUnreferenced ?? (() => undefined);
  }

  /** Throws unless `token` is one of the unfinished job's callback tokens. */
  async authenticate(jobId: string, token: string): Promise<void> {
    checkCallbackToken(await this.jobs.find(jobId), token);
  }

  async ingest(jobId: string, token: string, event: TrainerEvent): Promise<{ accepted: boolean }> {
    const result: { accepted: boolean; unreferenced?: string[] } = await this.jobs.db.transaction(
      async (trx) => {
        const job = checkCallbackToken(await this.jobs.lockForReport(jobId, trx), token);
        this.checkArtifacts(jobId, event);
        if (!(await this.events.insertReported(jobId, job.attempt, event, trx))) return { accepted: false };
        if (isFinished(job.status)) return { accepted: false };
        return { accepted: true, unreferenced: await this.apply(trx, job, event) };
      },
    );
    // Only once the transaction has committed: a rolled-back report must not take an object with it.
    if (result.unreferenced?.length) this.onUnreferenced(result.unreferenced);
    if (
      result.accepted &&
      (event.type === 'completed' || event.type === 'failed' || event.type === 'cancelled')
    ) {
      this.onJobEnded();
    }
    return { accepted: result.accepted };
  }

  /** A trainer reports only what it wrote under its job's prefix: a token for one job reaches no other object. */
  private checkArtifacts(jobId: string, event: TrainerEvent): void {
    if (!('artifacts' in event)) return;
    const prefix = jobOutputPrefix(this.bucket, jobId);
    const outside = event.artifacts.flatMap((artifact, index) =>
      artifact.uri.startsWith(prefix) && artifact.uri.length > prefix.length
        ? []
        : [{ path: `body.artifacts.${index}.uri`, message: `must lie under ${prefix}` }],
    );
    if (outside.length) throw new InputError('Artifacts must lie under the job output prefix', outside);
  }

  /** Applies the event's effect on the job; returns the artifact URIs it made unreferenced. */
  private async apply(trx: Knex.Transaction, job: JobRow, event: TrainerEvent): Promise<string[]> {
    const now = new Date();
    const heartbeat = { last_heartbeat_at: now };
    switch (event.type) {
      case 'started':
        await this.jobs.started(
          job,
          ['queued', 'dispatching'],
          { ...heartbeat, total_epochs: event.totalEpochs },
          trx,
        );
        if (job.status === 'running')
          await this.jobs.update(job.id, { ...heartbeat, total_epochs: event.totalEpochs }, trx);
        return [];
      case 'progress': {
        // A progress report proves the training runs, even if its `started` event was lost.
        if (job.status !== 'running') await this.jobs.started(job, ['queued', 'dispatching'], {}, trx);
        const newer = event.epoch >= job.epoch;
        await this.jobs.update(
          job.id,
          {
            ...heartbeat,
            ...(newer
              ? {
                  epoch: event.epoch,
                  total_epochs: event.totalEpochs,
                  latest_metrics: JSON.stringify(event.metrics),
                }
              : {}),
          },
          trx,
        );
        return [];
      }
      case 'checkpoint':
        await this.jobs.update(job.id, heartbeat, trx);
        return this.jobs.upsertArtifacts(job.id, event.artifacts, trx);
      case 'heartbeat':
        await this.jobs.update(
          job.id,
          {
            ...heartbeat,
            ...(event.phase ? { phase: event.phase } : {}),
            ...(event.lastProgressAt ? { last_progress_at: new Date(event.lastProgressAt) } : {}),
            ...(event.stallLimitSeconds ? { stall_limit_seconds: event.stallLimitSeconds } : {}),
          },
          trx,
        );
        return [];
      case 'log':
        await this.jobs.update(job.id, heartbeat, trx);
        return [];
      case 'completed':
      case 'failed':
      case 'cancelled':
        return (await this.jobs.finish(job.id, UNFINISHED, outcomeOf(event), trx))?.unreferenced ?? [];
    }
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
