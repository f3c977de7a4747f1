import { UnauthorizedError } from '@vtp/service-kit';
import { isTerminal, type JobStatus, type TrainerEvent } from '@vtp/shared-schemas';
import type { Knex } from 'knex';
import { secretMatchesHash } from '../auth/secrets.ts';
import type { JobRow, JobStore } from './jobStore.ts';

const active: readonly JobStatus[] = ['queued', 'dispatching', 'running'];

/**
 * Applies trainer callbacks. Each event is stored once (its seq is the key); its effect on the job is applied
 * under a row lock and only forwards: a late or duplicate event never moves a job backwards, and nothing
 * changes a job once it is terminal.
 */
export class EventIngest {
  private readonly jobs: JobStore;
  private readonly onJobEnded: () => void;
  constructor(jobs: JobStore, onJobEnded: () => void = () => undefined) {
    this.jobs = jobs;
    this.onJobEnded = onJobEnded;
  }

  async ingest(jobId: string, token: string, event: TrainerEvent): Promise<{ accepted: boolean }> {
    const result = await this.jobs.db.transaction(async (trx) => {
      const job = await trx('jobs').where({ id: jobId }).forUpdate().first<JobRow | undefined>();
      // Same answer for an unknown job and a wrong token: a token must not reveal which jobs exist.
      if (!job || !secretMatchesHash(token, job.callback_token_hash)) {
        throw new UnauthorizedError('Invalid callback token for this job', 'invalid_callback_token');
      }
      const { seq, type, timestamp, ...payload } = event;
      const inserted = await trx('job_events')
        .insert({ job_id: jobId, seq, type, timestamp, payload: JSON.stringify(payload) })
        .onConflict(['job_id', 'seq'])
        .ignore()
        .returning('seq');
      if (inserted.length === 0) return { accepted: false };
      if (isTerminal(job.status)) return { accepted: false };
      await this.apply(trx, job, event);
      return { accepted: true };
    });
    if (
      result.accepted &&
      (event.type === 'completed' || event.type === 'failed' || event.type === 'cancelled')
    ) {
      this.onJobEnded();
    }
    return result;
  }

  private async apply(trx: Knex.Transaction, job: JobRow, event: TrainerEvent): Promise<void> {
    const now = new Date();
    const heartbeat = { last_heartbeat_at: now };
    switch (event.type) {
      case 'started':
        await this.jobs.transition(
          job.id,
          ['queued', 'dispatching'],
          'running',
          {
            ...heartbeat,
            started_at: job.started_at ?? now,
            total_epochs: event.totalEpochs,
          },
          trx,
        );
        if (job.status === 'running')
          await this.jobs.update(job.id, { ...heartbeat, total_epochs: event.totalEpochs }, trx);
        return;
      case 'progress': {
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
            ...(job.status !== 'running' ? { status: 'running', started_at: job.started_at ?? now } : {}),
          },
          trx,
        );
        return;
      }
      case 'checkpoint':
        await this.jobs.upsertArtifacts(job.id, event.artifacts, trx);
        await this.jobs.update(job.id, heartbeat, trx);
        return;
      case 'heartbeat':
      case 'log':
        await this.jobs.update(job.id, heartbeat, trx);
        return;
      case 'completed':
        await this.jobs.upsertArtifacts(job.id, event.artifacts, trx);
        await this.jobs.transition(
          job.id,
          active,
          'succeeded',
          {
            finished_at: now,
            epoch: Math.max(job.epoch, job.total_epochs),
            ...(Object.keys(event.metrics).length
              ? { latest_metrics: JSON.stringify(event.metrics) as never }
              : {}),
          },
          trx,
        );
        return;
      case 'failed':
        await this.jobs.upsertArtifacts(job.id, event.artifacts, trx);
        await this.jobs.transition(
          job.id,
          active,
          'failed',
          {
            finished_at: now,
            error_code: event.error.code,
            error_message: event.error.message,
          },
          trx,
        );
        return;
      case 'cancelled':
        await this.jobs.upsertArtifacts(job.id, event.artifacts, trx);
        await this.jobs.transition(job.id, active, 'cancelled', { finished_at: now }, trx);
        return;
    }
  }
}
