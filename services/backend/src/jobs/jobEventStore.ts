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

/** One job's routine report: its events, with the hash of the token they came with. */
export interface RoutineReportRequest {
  jobId: string;
  tokenHash: string;
  events: readonly RoutineEvent[];
}

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
   * The routine reports of running jobs (progress, heartbeats, logs: nearly every callback) in one autocommitted
   * statement instead of a transaction of five each: lock the rows of the jobs whose report holds one of their
   * tokens, store the new events, and apply their effects to each job as EventIngest does one by one (the latest
   * epoch reached, the latest heartbeat fields). Several jobs' reports go together (RoutineReportQueue), at most
   * one per job. Returns each report's outcome in order: what was stored, or undefined when its job is not
   * running under that token (the caller then takes the general path, which says why).
   */
  async storeRoutine(reports: readonly RoutineReportRequest[]): Promise<(RoutineReport | undefined)[]> {
    const input = reports.flatMap(({ jobId, tokenHash, events }, r) =>
      events.map(({ seq, type, timestamp, ...payload }) => ({
        r,
        job_id: jobId,
        token_hash: tokenHash,
        seq,
        type,
        timestamp,
        payload,
      })),
    );
    const answers = await queryPrepared<{
      r: number;
      framework: Framework;
      dispatched_at: Date | null;
      stored: number[];
      first_epoch_ended_at: Date | null;
    }>(
      this.db,
      'vtp_store_routine',
      `with input as (
         select * from jsonb_to_recordset($1::jsonb)
             as i(r int, job_id uuid, token_hash text, seq int, type text, timestamp timestamptz, payload jsonb)
       ),
       report as (
         select distinct r, job_id, token_hash from input
       ),
       job as (
         -- locked in id order: statements running side by side never wait on each other in a circle
         select j.id, j.attempt, j.epoch, j.framework, j.dispatched_at, r.r,
                coalesce(a.resumed_from_epoch, 0) as resumed_from
           from jobs j
           join report r on r.job_id = j.id and r.token_hash = any(j.callback_token_hashes)
           join job_attempts a on a.job_id = j.id and a.attempt = j.attempt
          where j.status = 'running'
          order by j.id
          for update of j
       ),
       stored as (
         insert into job_events (job_id, seq, attempt, type, timestamp, payload)
         select job.id, i.seq, job.attempt, i.type, i.timestamp, i.payload
           from job join input i on i.r = job.r
          order by job.id, i.seq
         on conflict (job_id, seq) do nothing
         returning job_id, seq, type, timestamp, payload
       ),
       progress as (
         select distinct on (job_id) job_id, (payload->>'epoch')::int as epoch,
                (payload->>'totalEpochs')::int as total_epochs, payload->'metrics' as metrics
           from stored where type = 'progress'
          order by job_id, (payload->>'epoch')::int desc, seq desc
       ),
       beat as (
         -- one row per job with a new event: the latest value of each heartbeat field it reported
         select job_id,
                (array_agg(payload->>'phase' order by seq desc)
                  filter (where type = 'heartbeat' and payload->>'phase' is not null))[1] as phase,
                (array_agg((payload->>'lastProgressAt')::timestamptz order by seq desc)
                  filter (where type = 'heartbeat' and payload->>'lastProgressAt' is not null))[1]
                  as last_progress_at,
                (array_agg((payload->>'stallLimitSeconds')::int order by seq desc)
                  filter (where type = 'heartbeat' and payload->>'stallLimitSeconds' is not null))[1]
                  as stall_limit_seconds
           from stored group by job_id
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
           from beat b left join progress p on p.job_id = b.job_id
          where j.id = b.job_id
       )
       select job.r, job.framework, job.dispatched_at,
              coalesce((select array_agg(s.seq) from stored s where s.job_id = job.id), '{}') as stored,
              -- the attempt's first epoch, when this report holds it: the first progress past where it started
              (select s.timestamp from stored s
                where s.job_id = job.id and job.epoch = job.resumed_from and s.type = 'progress'
                  and (s.payload->>'epoch')::int > job.epoch
                order by s.seq limit 1) as first_epoch_ended_at
         from job`,
      [JSON.stringify(input)],
    );
    const byReport = new Map(answers.map((answer) => [answer.r, answer]));
    return reports.map((_, r) => {
      const answer = byReport.get(r);
      if (!answer) return undefined;
      return {
        stored: new Set(answer.stored),
        job: { framework: answer.framework, dispatched_at: answer.dispatched_at },
        firstEpochEndedAt: answer.first_epoch_ended_at,
      };
    });
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
