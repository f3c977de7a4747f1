import type { Framework, JobEvent, Metrics, TrainerEvent } from '@vtp/shared-schemas';
import type { Knex } from 'knex';
import { type Db, queryPrepared } from '../db/database.ts';

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

/** Trainer events that never move the state machine: what a running training reports all along. */
export type RoutineEvent = Extract<TrainerEvent, { type: 'progress' | 'heartbeat' | 'log' }>;
export const isRoutine = (event: TrainerEvent): event is RoutineEvent =>
  event.type === 'progress' || event.type === 'heartbeat' || event.type === 'log';

/** What storing routine reports did: the new seqs, and when the attempt's first epoch ended if they hold it. */
export interface RoutineReport {
  stored: Set<number>;
  job: { framework: Framework; dispatched_at: Date | null };
  firstEpochEndedAt: Date | null;
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

  /**
   * The routine reports of a running job (progress, heartbeats, logs: nearly every callback) in one autocommitted
   * statement instead of a transaction of five: lock the row if `tokenHash` is one of its tokens, store the new
   * events, and apply their effects to the job as EventIngest does one by one (the latest epoch reached, the
   * latest heartbeat fields). It writes the job row too, as the one statement it must be. Returns what was
   * stored, or undefined when the job is not running under that token (the caller then takes the general path,
   * which says why).
   */
  async storeRoutine(
    jobId: string,
    tokenHash: string,
    events: readonly RoutineEvent[],
  ): Promise<RoutineReport | undefined> {
    const rows = events.map(({ seq, type, timestamp, ...payload }) => ({ seq, type, timestamp, payload }));
    const [answer] = await queryPrepared<{
      framework: Framework;
      dispatched_at: Date | null;
      stored: number[];
      first_epoch_ended_at: Date | null;
    }>(
      this.db,
      'vtp_store_routine',
      `with job as (
         select j.id, j.attempt, j.epoch, j.framework, j.dispatched_at,
                coalesce(a.resumed_from_epoch, 0) as resumed_from
           from jobs j
           join job_attempts a on a.job_id = j.id and a.attempt = j.attempt
          where j.id = $1 and j.status = 'running' and $2 = any(j.callback_token_hashes)
          for update of j
       ),
       stored as (
         insert into job_events (job_id, seq, attempt, type, timestamp, payload)
         select job.id, e.seq, job.attempt, e.type, e.timestamp, e.payload
           from job cross join jsonb_to_recordset($3::jsonb) as e(seq int, type text, timestamp timestamptz, payload jsonb)
         on conflict (job_id, seq) do nothing
         returning seq, type, timestamp, payload
       ),
       progress as (
         select (payload->>'epoch')::int as epoch, (payload->>'totalEpochs')::int as total_epochs,
                payload->'metrics' as metrics
           from stored where type = 'progress'
          order by (payload->>'epoch')::int desc, seq desc limit 1
       ),
       beat as (
         select (select payload->>'phase' from stored
                  where type = 'heartbeat' and payload->>'phase' is not null order by seq desc limit 1) as phase,
                (select (payload->>'lastProgressAt')::timestamptz from stored
                  where type = 'heartbeat' and payload->>'lastProgressAt' is not null order by seq desc limit 1)
                  as last_progress_at,
                (select (payload->>'stallLimitSeconds')::int from stored
                  where type = 'heartbeat' and payload->>'stallLimitSeconds' is not null order by seq desc limit 1)
                  as stall_limit_seconds
       ),
       applied as (
         update jobs j set
           last_heartbeat_at = now(),
           updated_at = now(),
           epoch = case when p.epoch >= j.epoch then p.epoch else j.epoch end,
           total_epochs = case when p.epoch >= j.epoch then p.total_epochs else j.total_epochs end,
           latest_metrics = case when p.epoch >= j.epoch then p.metrics else j.latest_metrics end,
           phase = coalesce(b.phase, j.phase),
           last_progress_at = coalesce(b.last_progress_at, j.last_progress_at),
           stall_limit_seconds = coalesce(b.stall_limit_seconds, j.stall_limit_seconds)
           from job left join progress p on true cross join beat b
          where j.id = job.id and exists (select 1 from stored)
       )
       select job.framework, job.dispatched_at,
              coalesce((select array_agg(seq) from stored), '{}') as stored,
              -- the attempt's first epoch, when this report holds it: the first progress past where it started
              (select s.timestamp from stored s
                where job.epoch = job.resumed_from and s.type = 'progress'
                  and (s.payload->>'epoch')::int > job.epoch
                order by s.seq limit 1) as first_epoch_ended_at
         from job`,
      [jobId, tokenHash, JSON.stringify(rows)],
    );
    if (!answer) return undefined;
    return {
      stored: new Set(answer.stored),
      job: { framework: answer.framework, dispatched_at: answer.dispatched_at },
      firstEpochEndedAt: answer.first_epoch_ended_at,
    };
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
