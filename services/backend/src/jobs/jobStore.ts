import type {
  Artifact,
  Framework,
  Job,
  JobError,
  JobStatus,
  Metrics,
  Resources,
  TraceContext,
  TrainingPhase,
} from '@vtp/shared-schemas';
import type { Knex } from 'knex';
import type { Db } from '../db/database.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { assertTransitions, isFinished, PLACED } from './jobLifecycle.ts';

export interface JobRow {
  id: string;
  user_id: string;
  dataset_id: string;
  framework: Framework;
  model: string;
  hyperparameters: Record<string, unknown>;
  resources: Resources | null;
  max_duration_seconds: number | null;
  initial_weights: { jobId: string; checkpoint: 'best' | 'last' } | null;
  status: JobStatus;
  idempotency_key: string | null;
  request_hash: string;
  /** One per hand-over; any is accepted while the job is unfinished, none once it ended. */
  callback_token_hashes: string[];
  epoch: number;
  total_epochs: number;
  latest_metrics: Metrics | null;
  error_code: JobError['code'] | null;
  error_message: string | null;
  attempts: number;
  placement: Record<string, unknown> | null;
  trace_context: TraceContext | null;
  created_at: Date;
  updated_at: Date;
  dispatched_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  last_heartbeat_at: Date | null;
  cancel_requested_at: Date | null;
  phase: TrainingPhase | null;
  last_progress_at: Date | null;
  stall_limit_seconds: number | null;
}

interface ArtifactRow {
  job_id: string;
  kind: Artifact['kind'];
  uri: string;
  bytes: string | number;
  epoch: number | null;
  sha256: string | null;
}

export type NewJob = Pick<
  JobRow,
  | 'id'
  | 'user_id'
  | 'dataset_id'
  | 'framework'
  | 'model'
  | 'hyperparameters'
  | 'resources'
  | 'max_duration_seconds'
  | 'initial_weights'
  | 'idempotency_key'
  | 'request_hash'
  | 'trace_context'
>;

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

export function toJob(row: JobRow, artifacts: ArtifactRow[]): Job {
  return {
    id: row.id,
    status: row.status,
    framework: row.framework,
    model: row.model,
    datasetId: row.dataset_id,
    hyperparameters: row.hyperparameters,
    resources: row.resources,
    maxDurationSeconds: row.max_duration_seconds,
    progress: {
      epoch: row.epoch,
      totalEpochs: row.total_epochs,
      fraction:
        row.status === 'succeeded' ? 1 : row.total_epochs > 0 ? Math.min(1, row.epoch / row.total_epochs) : 0,
      phase: isFinished(row.status) ? null : row.phase,
    },
    latestMetrics: row.latest_metrics,
    artifacts: artifacts.map((a) => ({
      kind: a.kind,
      uri: a.uri,
      bytes: Number(a.bytes),
      ...(a.epoch === null ? {} : { epoch: a.epoch }),
      ...(a.sha256 === null ? {} : { sha256: a.sha256 }),
    })),
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

/** How a training ended, from its trainer's report or, when that never came, from its executor and storage. */
export type JobOutcome =
  | { status: 'succeeded'; artifacts: Artifact[]; metrics?: Metrics | undefined; epochs?: number | undefined }
  | { status: 'failed'; error: JobError; artifacts: Artifact[] }
  | { status: 'cancelled'; artifacts: Artifact[] };

export class JobStore {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Inserts the job unless the user already used this idempotency key; returns the row and whether it is new. */
  async insert(job: NewJob): Promise<{ row: JobRow; created: boolean }> {
    const [row] = await this.db('jobs')
      .insert({
        ...job,
        hyperparameters: JSON.stringify(job.hyperparameters),
        resources: job.resources ? JSON.stringify(job.resources) : null,
        initial_weights: job.initial_weights ? JSON.stringify(job.initial_weights) : null,
        trace_context: job.trace_context ? JSON.stringify(job.trace_context) : null,
        status: 'queued',
      })
      .onConflict(['user_id', 'idempotency_key'])
      .ignore()
      .returning<JobRow[]>('*');
    if (row) return { row, created: true };
    const existing = job.idempotency_key
      ? await this.findByIdempotencyKey(job.user_id, job.idempotency_key)
      : undefined;
    if (!existing) throw new Error('idempotent insert found neither a new nor an existing row');
    return { row: existing, created: false };
  }

  async findByIdempotencyKey(userId: string, key: string): Promise<JobRow | undefined> {
    return this.db('jobs').where({ user_id: userId, idempotency_key: key }).first<JobRow | undefined>();
  }

  async countQueued(userId: string): Promise<number> {
    const [row] = await this.db('jobs')
      .where({ user_id: userId, status: 'queued' })
      .count<{ count: string }[]>('* as count');
    return Number(row?.count ?? 0);
  }

  async find(id: string, trx: Knex = this.db): Promise<JobRow | undefined> {
    return trx('jobs').where({ id }).first<JobRow | undefined>();
  }

  async findForUser(userId: string, id: string): Promise<JobRow | undefined> {
    return this.db('jobs').where({ id, user_id: userId }).first<JobRow | undefined>();
  }

  async artifacts(jobIds: string[]): Promise<Map<string, ArtifactRow[]>> {
    const rows = jobIds.length
      ? await this.db('artifacts').whereIn('job_id', jobIds).orderBy('kind').select<ArtifactRow[]>('*')
      : [];
    const byJob = new Map<string, ArtifactRow[]>();
    for (const r of rows) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
    return byJob;
  }

  async toJobs(rows: JobRow[]): Promise<Job[]> {
    const artifacts = await this.artifacts(rows.map((r) => r.id));
    return rows.map((r) => toJob(r, artifacts.get(r.id) ?? []));
  }

  async list(
    userId: string,
    filters: { status?: JobStatus | undefined; framework?: Framework | undefined },
    limit: number,
    cursor?: string,
  ): Promise<{ rows: JobRow[]; nextCursor: string | null }> {
    const query = this.db('jobs').where({ user_id: userId });
    if (filters.status) query.andWhere({ status: filters.status });
    if (filters.framework) query.andWhere({ framework: filters.framework });
    const after = cursor ? decodeCursor(cursor) : undefined;
    if (after) {
      query.andWhere((q) =>
        q
          .where('created_at', '<', after.createdAt)
          .orWhere((q2) => q2.where('created_at', after.createdAt).andWhere('id', '<', after.id)),
      );
    }
    const rows = (await query
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit + 1)) as JobRow[];
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { rows: rows.slice(0, limit), nextCursor: last ? encodeCursor(last.created_at, last.id) : null };
  }

  /**
   * A guarded state change: applies only while the job is in one of `from`, so two writers can never both
   * move it. Returns the updated row, or undefined when the guard did not hold.
   */
  async transition(
    id: string,
    from: readonly JobStatus[],
    to: JobStatus,
    patch: Partial<JobRow> = {},
    trx: Knex = this.db,
  ): Promise<JobRow | undefined> {
    assertTransitions(from, to);
    const [row] = await trx('jobs')
      .where({ id })
      .whereIn('status', from)
      // A job that ended takes no more reports: its callback tokens are revoked with the move.
      .update({
        ...patch,
        ...(isFinished(to) ? { callback_token_hashes: [] } : {}),
        status: to,
        updated_at: trx.fn.now(),
      })
      .returning<JobRow[]>('*');
    return row;
  }

  async update(
    id: string,
    patch: Partial<JobRow> | Record<string, unknown>,
    trx: Knex = this.db,
  ): Promise<void> {
    await trx('jobs')
      .where({ id })
      .update({ ...patch, updated_at: trx.fn.now() });
  }

  /**
   * Ends a job still in one of `from` with its outcome, storing the artifacts that come with it; a job that
   * already ended keeps its outcome (and its artifacts). Returns whether this call ended it.
   */
  async finish(id: string, from: readonly JobStatus[], outcome: JobOutcome, trx?: Knex): Promise<boolean> {
    if (!trx) return this.db.transaction((own) => this.finish(id, from, outcome, own));
    const finishedAt = { finished_at: new Date() };
    const patch: Partial<JobRow> | Record<string, unknown> =
      outcome.status === 'succeeded'
        ? {
            ...finishedAt,
            // Every epoch ran; a count from storage also fills in a job whose progress reports never came.
            epoch: trx.raw('greatest(epoch, total_epochs, ?::int)', [outcome.epochs ?? 0]),
            total_epochs: trx.raw('greatest(total_epochs, ?::int)', [outcome.epochs ?? 0]),
            ...(outcome.metrics && Object.keys(outcome.metrics).length
              ? { latest_metrics: JSON.stringify(outcome.metrics) }
              : {}),
          }
        : outcome.status === 'failed'
          ? {
              ...finishedAt,
              error_code: outcome.error.code,
              error_message: outcome.error.message.slice(0, 4000),
            }
          : finishedAt;
    const row = await this.transition(id, from, outcome.status, patch as Partial<JobRow>, trx);
    if (row) await this.upsertArtifacts(id, outcome.artifacts, trx);
    return Boolean(row);
  }

  /** Fails a job still in one of `from`; a job that already ended keeps its outcome. */
  async fail(id: string, from: readonly JobStatus[], error: JobError, trx: Knex = this.db): Promise<boolean> {
    const row = await this.transition(
      id,
      from,
      'failed',
      { finished_at: new Date(), error_code: error.code, error_message: error.message.slice(0, 4000) },
      trx,
    );
    return Boolean(row);
  }

  /** Fails every unfinished job placed on one executor instance (which died); returns their ids. */
  async failActiveAt(placementKey: string, value: string, error: JobError): Promise<string[]> {
    assertTransitions(PLACED, 'failed');
    const rows = await this.db('jobs')
      .whereIn('status', PLACED)
      .whereRaw('placement ->> ? = ?', [placementKey, value])
      .update({
        status: 'failed',
        finished_at: this.db.fn.now(),
        updated_at: this.db.fn.now(),
        error_code: error.code,
        error_message: error.message,
        callback_token_hashes: [],
      })
      .returning<{ id: string }[]>('id');
    return rows.map((r) => r.id);
  }

  async listByStatus(
    status: JobStatus,
    olderThan: { column: 'dispatched_at' | 'started_at'; before: Date },
  ): Promise<JobRow[]> {
    return this.db('jobs')
      .where({ status })
      .andWhere(olderThan.column, '<', olderThan.before)
      .select<JobRow[]>('*');
  }

  async listActive(): Promise<JobRow[]> {
    return this.db('jobs').whereIn('status', PLACED).select<JobRow[]>('*');
  }

  async upsertArtifacts(jobId: string, artifacts: Artifact[], trx: Knex = this.db): Promise<void> {
    for (const a of artifacts) {
      // A late checkpoint of an older epoch never replaces a newer one.
      await trx.raw(
        `insert into artifacts (job_id, kind, uri, bytes, epoch, sha256, updated_at) values (?, ?, ?, ?, ?, ?, now())
         on conflict (job_id, kind) do update set uri = excluded.uri, bytes = excluded.bytes, epoch = excluded.epoch,
           sha256 = excluded.sha256, updated_at = now()
         where artifacts.epoch is null or excluded.epoch is null or excluded.epoch >= artifacts.epoch`,
        [jobId, a.kind, a.uri, a.bytes, a.epoch ?? null, a.sha256 ?? null],
      );
    }
  }
}
