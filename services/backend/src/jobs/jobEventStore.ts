import type { JobEvent, Metrics, TrainerEvent } from '@vtp/shared-schemas';
import type { Knex } from 'knex';
import type { Db } from '../db/database.ts';

interface EventRow {
  job_id: string;
  seq: number;
  attempt: number;
  superseded: boolean;
  type: string;
  timestamp: Date;
  received_at: Date;
  payload: Record<string, unknown>;
}

/** A job's events, as its trainers reported them and as the backend noted its own moves (retries, resumes). */
export class JobEventStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async list(jobId: string, afterSeq: number, limit: number): Promise<JobEvent[]> {
    const rows = await this.db('job_events')
      .where({ job_id: jobId })
      .andWhere('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .select<EventRow[]>('*');
    return rows.map((r) => ({
      jobId: r.job_id,
      seq: r.seq,
      attempt: r.attempt,
      superseded: r.superseded,
      type: r.type,
      timestamp: r.timestamp.toISOString(),
      receivedAt: r.received_at.toISOString(),
      payload: r.payload,
    }));
  }

  /** Stores a trainer's event once: false when its seq is already stored (a redelivery). */
  /** Stores a trainer's events in one statement; returns the seqs that were new (the rest were duplicates). */
  async insertReported(
    jobId: string,
    attempt: number,
    events: readonly TrainerEvent[],
    trx: Knex,
  ): Promise<Set<number>> {
    if (events.length === 0) return new Set();
    const rows = events.map(({ seq, type, timestamp, ...payload }) => ({
      job_id: jobId,
      seq,
      attempt,
      type,
      timestamp,
      payload: JSON.stringify(payload),
    }));
    const inserted: { seq: number }[] = await trx('job_events')
      .insert(rows)
      .onConflict(['job_id', 'seq'])
      .ignore()
      .returning('seq');
    return new Set(inserted.map((row) => row.seq));
  }

  /** Appends an event of the backend's own after every stored one; returns its seq. */
  async append(
    jobId: string,
    attempt: number,
    type: string,
    payload: Record<string, unknown>,
    trx: Knex,
  ): Promise<number> {
    const [{ seq }] = (await trx('job_events')
      .where({ job_id: jobId })
      .max<{ seq: number | null }[]>('seq as seq')) as [{ seq: number | null }];
    const next = (seq ?? 0) + 1;
    await trx('job_events').insert({
      job_id: jobId,
      seq: next,
      attempt,
      type,
      timestamp: new Date(),
      payload: JSON.stringify(payload),
    });
    return next;
  }

  /** Progress of epochs after `epoch` is trained again by the next attempt: it leaves the metric history. */
  async supersedeEpochsAfter(jobId: string, epoch: number, trx: Knex): Promise<void> {
    await trx('job_events')
      .where({ job_id: jobId, type: 'progress' })
      .whereRaw("(payload->>'epoch')::int > ?", [epoch])
      .update({ superseded: true });
  }

  /**
   * The metrics of epochs 1..`upTo` as the job's attempts reported them, one entry per epoch: a resumed training
   * writes the whole history into its metrics.json.
   */
  async epochMetrics(jobId: string, upTo: number): Promise<Metrics[]> {
    const rows = await this.db('job_events')
      .where({ job_id: jobId, type: 'progress', superseded: false })
      .whereRaw("(payload->>'epoch')::int <= ?", [upTo])
      .orderBy('seq')
      .select<{ payload: { epoch: number; metrics: Metrics } }[]>('payload');
    const byEpoch = new Map<number, Metrics>();
    for (const { payload } of rows) byEpoch.set(payload.epoch, payload.metrics);
    return [...byEpoch.entries()].sort(([a], [b]) => a - b).map(([, metrics]) => metrics);
  }
}
