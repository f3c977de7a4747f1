import type {
  Artifact,
  ExportFormat,
  Framework,
  InitialWeights,
  Job,
  JobAttempt,
  JobError,
  JobKind,
  JobStatus,
  Metrics,
  Resources,
  TraceContext,
  TrainingPhase,
} from '@vtp/shared-schemas';
import type { Knex } from 'knex';
import { generateSecret, hashSecret } from '../auth/secrets.ts';
import { afterCommit, type Db } from '../db/database.ts';
import { keysetPage } from '../db/pageCursor.ts';
import type { JobCountRow, JobMetrics } from '../observability/jobMetrics.ts';
import type { JobEventStore } from './jobEventStore.ts';
import { assertTransitions, isFinished, PLACED, UNFINISHED } from './jobLifecycle.ts';
import { isRetried } from './retryPolicy.ts';

export interface JobRow {
  id: string;
  user_id: string;
  dataset_id: string;
  framework: Framework;
  model: string;
  hyperparameters: Record<string, unknown>;
  resources: Resources | null;
  max_duration_seconds: number | null;
  initial_weights: InitialWeights | null;
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
  /** Hand-overs of the current attempt (each may time out and be tried again). */
  handovers: number;
  /** The current attempt, from 1; each retry or resume starts the next. */
  attempt: number;
  max_retries: number;
  retry_on_out_of_memory: boolean;
  /** Training time of the ended attempts: the time limit covers all of them. */
  trained_seconds: number;
  attempt_started_at: Date | null;
  placement: Record<string, unknown> | null;
  trace_context: TraceContext | null;
  created_at: Date;
  updated_at: Date;
  /** When the current attempt joined the queue. */
  queued_at: Date;
  dispatched_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  last_heartbeat_at: Date | null;
  cancel_requested_at: Date | null;
  phase: TrainingPhase | null;
  last_progress_at: Date | null;
  stall_limit_seconds: number | null;
  tracking: StoredTracking | null;
  export_formats: ExportFormat[];
  /** `export`: the job only exports the best checkpoint of the job its `initial_weights` name. */
  kind: JobKind;
}

/**
 * A placed job as its executor and the job monitor see it: the executor's handle and the job's clocks. The
 * monitor reads every placed job each pass, so it reads these columns, not the whole row (hyperparameters,
 * metrics and tokens would be decoded thousands of times a minute for nothing).
 */
const ACTIVE_JOB_COLUMNS = [
  'id',
  'framework',
  'attempt',
  'status',
  'placement',
  'resources',
  'handovers',
  'dispatched_at',
  'attempt_started_at',
  'last_heartbeat_at',
  'last_progress_at',
  'stall_limit_seconds',
  'max_duration_seconds',
  'trained_seconds',
  'phase',
] as const satisfies readonly (keyof JobRow)[];
export type ActiveJob = Pick<JobRow, (typeof ACTIVE_JOB_COLUMNS)[number]>;

/** Where a job's training is tracked: the MLflow server and experiment it was created for, and its run. */
export interface StoredTracking {
  mlflow: { trackingUri: string; experiment: string; experimentId?: string; runId?: string };
}

interface AttemptRow {
  job_id: string;
  attempt: number;
  first_seq: number;
  resumed_from_epoch: number | null;
  status: JobAttempt['status'];
  started_at: Date | null;
  ended_at: Date | null;
  error_code: JobError['code'] | null;
  error_message: string | null;
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
  | 'max_retries'
  | 'retry_on_out_of_memory'
  | 'idempotency_key'
  | 'request_hash'
  | 'trace_context'
  | 'tracking'
  | 'export_formats'
  | 'kind'
>;

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function toAttempt(row: AttemptRow): JobAttempt {
  return {
    attempt: row.attempt,
    status: row.status,
    resumedFromEpoch: row.resumed_from_epoch,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
  };
}

export function toJob(row: JobRow, artifacts: ArtifactRow[], attempts: AttemptRow[]): Job {
  return {
    id: row.id,
    kind: row.kind,
    exportOf:
      row.kind === 'export' && row.initial_weights && 'jobId' in row.initial_weights
        ? row.initial_weights.jobId
        : null,
    status: row.status,
    framework: row.framework,
    model: row.model,
    datasetId: row.dataset_id,
    initialWeights: row.initial_weights,
    hyperparameters: row.hyperparameters,
    resources: row.resources,
    maxDurationSeconds: row.max_duration_seconds,
    maxRetries: row.max_retries,
    retryOnOutOfMemory: row.retry_on_out_of_memory,
    attempt: row.attempt,
    attempts: attempts.map(toAttempt),
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
    export: row.export_formats,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    tracking: row.tracking ? toTracking(row.tracking) : null,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

function toTracking({ mlflow }: StoredTracking): Job['tracking'] {
  const { experimentId, runId } = mlflow;
  const ui = mlflow.trackingUri.replace(/\/+$/, '');
  return {
    mlflow: {
      experiment: mlflow.experiment,
      experimentId: experimentId ?? null,
      runId: runId ?? null,
      url: experimentId && runId ? `${ui}/#/experiments/${experimentId}/runs/${runId}` : null,
    },
  };
}

/** How a training ended, from its trainer's report or, when that never came, from its executor and storage. */
export type JobOutcome =
  | { status: 'succeeded'; artifacts: Artifact[]; metrics?: Metrics | undefined; epochs?: number | undefined }
  | { status: 'failed'; error: JobError; artifacts: Artifact[] }
  | { status: 'cancelled'; artifacts: Artifact[] };

const CHECKPOINT_KINDS: readonly Artifact['kind'][] = ['best', 'last'];

export interface ConcurrencyLimits {
  perFramework: number;
  perUser: number;
}

export interface ClaimedJob {
  row: JobRow;
  /** Issued fresh at every hand-over; only its hash is stored. A trainer still holding an earlier one of the
   * attempt's tokens keeps reporting with it until the attempt ends. */
  callbackToken: string;
}

/**
 * What ending an attempt did: the job ended, or (an infrastructure failure with retries left) it queued again;
 * with the artifact URIs its outcome made unreferenced.
 */
export interface AttemptEnd {
  end: 'ended' | 'retrying';
  unreferenced: string[];
}

/** Where a job can continue from: its latest reported checkpoints. */
export interface ResumePoint {
  epoch: number;
  last: ArtifactRow;
  best: ArtifactRow | undefined;
}

export class JobStore {
  readonly db: Db;
  private readonly events: JobEventStore;
  private readonly metrics: JobMetrics;
  constructor(db: Db, events: JobEventStore, metrics: JobMetrics) {
    this.db = db;
    this.events = events;
    this.metrics = metrics;
  }

  /** Inserts the job unless the user already used this idempotency key; returns the row and whether it is new. */
  async insert(job: NewJob): Promise<{ row: JobRow; created: boolean }> {
    return this.db.transaction(async (trx) => {
      const [row] = await trx('jobs')
        .insert({
          ...job,
          hyperparameters: JSON.stringify(job.hyperparameters),
          resources: job.resources ? JSON.stringify(job.resources) : null,
          initial_weights: job.initial_weights ? JSON.stringify(job.initial_weights) : null,
          trace_context: job.trace_context ? JSON.stringify(job.trace_context) : null,
          tracking: job.tracking ? JSON.stringify(job.tracking) : null,
          status: 'queued',
        })
        .onConflict(['user_id', 'idempotency_key'])
        .ignore()
        .returning<JobRow[]>('*');
      if (row) {
        await trx('job_attempts').insert({ job_id: row.id, attempt: 1, first_seq: 1, status: 'queued' });
        return { row, created: true };
      }
      const existing = job.idempotency_key
        ? await trx('jobs')
            .where({ user_id: job.user_id, idempotency_key: job.idempotency_key })
            .first<JobRow>()
        : undefined;
      if (!existing) throw new Error('idempotent insert found neither a new nor an existing row');
      return { row: existing, created: false };
    });
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

  /** A checkpoint of `jobId`, while that job still has it. */
  async checkpointUri(jobId: string, checkpoint: 'best' | 'last'): Promise<string | undefined> {
    return (await this.artifacts([jobId])).get(jobId)?.find((a) => a.kind === checkpoint)?.uri;
  }

  async attempts(jobIds: string[]): Promise<Map<string, AttemptRow[]>> {
    const rows = jobIds.length
      ? await this.db('job_attempts').whereIn('job_id', jobIds).orderBy('attempt').select<AttemptRow[]>('*')
      : [];
    const byJob = new Map<string, AttemptRow[]>();
    for (const r of rows) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
    return byJob;
  }

  /** The job's current attempt (its events are numbered from `first_seq`). */
  async currentAttempt(
    job: Pick<JobRow, 'id' | 'attempt'>,
    trx: Knex = this.db,
  ): Promise<AttemptRow | undefined> {
    return trx('job_attempts').where({ job_id: job.id, attempt: job.attempt }).first<AttemptRow>();
  }

  async toJobs(rows: JobRow[]): Promise<Job[]> {
    const ids = rows.map((r) => r.id);
    const [artifacts, attempts] = await Promise.all([this.artifacts(ids), this.attempts(ids)]);
    return rows.map((r) => toJob(r, artifacts.get(r.id) ?? [], attempts.get(r.id) ?? []));
  }

  /** The latest checkpoints a training reported, if it reported a resumable one. */
  async resumePoint(jobId: string, trx: Knex = this.db): Promise<ResumePoint | undefined> {
    const rows = await trx('artifacts')
      .where({ job_id: jobId })
      .whereIn('kind', ['last', 'best'])
      .select<ArtifactRow[]>('*');
    const last = rows.find((r) => r.kind === 'last');
    if (!last?.epoch) return undefined;
    return { epoch: last.epoch, last, best: rows.find((r) => r.kind === 'best') };
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
    return keysetPage<JobRow>(query, limit, cursor);
  }

  /**
   * Claims queued jobs for hand-over within the concurrency limits. The advisory lock serialises claimers across
   * backend replicas, so two of them can never both see room for the same slot; SKIP LOCKED leaves rows that
   * another transaction holds. Slots are shared out by water-filling: a user's n-th waiting job ranks at their
   * running jobs + n, so each user gets a next slot before anyone gets a further one, whoever queued first.
   */
  async claimQueued(limits: ConcurrencyLimits, max: number): Promise<ClaimedJob[]> {
    return this.db.transaction(async (trx) => {
      await trx.raw("select pg_advisory_xact_lock(hashtext('vtp_dispatch'))");
      const active = await trx('jobs')
        .whereIn('status', PLACED)
        .select<{ framework: Framework; user_id: string; n: string }[]>(
          'framework',
          'user_id',
          trx.raw('count(*) as n'),
        )
        .groupBy('framework', 'user_id');
      const perFramework = new Map<string, number>();
      const perUser = new Map<string, number>();
      for (const a of active) {
        perFramework.set(a.framework, (perFramework.get(a.framework) ?? 0) + Number(a.n));
        perUser.set(a.user_id, (perUser.get(a.user_id) ?? 0) + Number(a.n));
      }
      const fullFrameworks = [...perFramework].filter(([, n]) => n >= limits.perFramework).map(([f]) => f);
      const { rows: candidates } = await trx.raw<{ rows: JobRow[] }>(
        `with placed as (
           select user_id, n from jsonb_to_recordset(?::jsonb) as p(user_id uuid, n int)
         ),
         waiting as (
           select j.id, j.user_id, row_number() over (partition by j.user_id order by j.created_at, j.id) as turn
             from jobs j
            where j.status = 'queued'
              and j.framework <> all(?::text[])
              -- a job sent back after a failed hand-over waits 2^handovers seconds (at most a minute)
              and (j.dispatched_at is null
                   or j.dispatched_at < now() - interval '1 second' * least(60, power(2, j.handovers)))
         )
         select j.* from jobs j
           join waiting w on w.id = j.id
           left join placed p on p.user_id = w.user_id
          where coalesce(p.n, 0) + w.turn <= ?
          order by coalesce(p.n, 0) + w.turn, j.created_at, j.id
          limit ?
          for update of j skip locked`,
        [
          JSON.stringify([...perUser].map(([user_id, n]) => ({ user_id, n }))),
          fullFrameworks,
          limits.perUser,
          max * 5,
        ],
      );
      const tokens = new Map<string, string>();
      for (const job of candidates) {
        if (tokens.size >= max) break;
        const fw = perFramework.get(job.framework) ?? 0;
        const user = perUser.get(job.user_id) ?? 0;
        if (fw >= limits.perFramework || user >= limits.perUser) continue;
        tokens.set(job.id, generateSecret('vtpcb'));
        perFramework.set(job.framework, fw + 1);
        perUser.set(job.user_id, user + 1);
      }
      if (tokens.size === 0) return [];
      // One statement for the whole claim: the rows are locked above, so each is still queued.
      const { rows } = await trx.raw<{ rows: JobRow[] }>(
        `update jobs j set status = 'dispatching',
                callback_token_hashes = array_append(j.callback_token_hashes, c.token_hash),
                handovers = j.handovers + 1, dispatched_at = now(), updated_at = now()
           from unnest(?::uuid[], ?::text[]) as c(id, token_hash)
          where j.id = c.id and j.status = 'queued'
         returning j.*`,
        [[...tokens.keys()], [...tokens.values()].map(hashSecret)],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      return [...tokens].flatMap(([id, callbackToken]) => {
        const row = byId.get(id);
        return row ? [{ row, callbackToken }] : [];
      });
    });
  }

  /** Locks the job's row for the transaction: its reports are applied one at a time. */
  async lockForReport(id: string, trx: Knex): Promise<JobRow | undefined> {
    return trx('jobs').where({ id }).forUpdate().first<JobRow | undefined>();
  }

  async status(id: string): Promise<JobStatus | undefined> {
    return (await this.db('jobs').where({ id }).first<{ status: JobStatus } | undefined>('status'))?.status;
  }

  /** Jobs by status and framework, with how long the oldest queued one waits and the stalest running one is silent. */
  async countByStatus(): Promise<JobCountRow[]> {
    const rows = await this.db('jobs')
      .select<{ status: JobStatus; framework: Framework; jobs: number; queued: number; progress: number }[]>(
        'status',
        'framework',
        this.db.raw('count(*)::int as jobs'),
        this.db.raw('coalesce(extract(epoch from now() - min(queued_at)), 0)::float8 as queued'),
        this.db.raw(
          'coalesce(extract(epoch from now() - min(coalesce(last_progress_at, attempt_started_at, dispatched_at))), 0)::float8 as progress',
        ),
      )
      .groupBy('status', 'framework');
    return rows.map((r) => ({
      status: r.status,
      framework: r.framework,
      jobs: r.jobs,
      oldestQueuedSeconds: r.queued,
      oldestProgressSeconds: r.progress,
    }));
  }

  /** Only the owner's jobs can start from their weights: the user filter keeps this on the user's index. */
  async hasUnfinishedForWeights(userId: string, weightsId: string): Promise<boolean> {
    return Boolean(
      await this.db('jobs')
        .where({ user_id: userId })
        .whereRaw("initial_weights->>'weightsId' = ?", [weightsId])
        .whereIn('status', UNFINISHED)
        .first('id'),
    );
  }

  async hasUnfinishedForDataset(datasetId: string): Promise<boolean> {
    return Boolean(
      // An export job keeps its source's dataset id but never reads the dataset.
      await this.db('jobs')
        .where({ dataset_id: datasetId, kind: 'training' })
        .whereIn('status', UNFINISHED)
        .first('id'),
    );
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
   * The trainer of the job's current attempt confirmed it runs: the job is `running` and the attempt's clock
   * starts (the time limit counts training, not waiting).
   */
  async started(
    job: Pick<JobRow, 'id' | 'attempt'>,
    from: readonly JobStatus[],
    patch: Partial<JobRow>,
    trx: Knex,
  ): Promise<boolean> {
    const now = new Date();
    const row = await this.transition(
      job.id,
      from,
      'running',
      {
        started_at: trx.raw('coalesce(started_at, now())'),
        ...patch,
        attempt_started_at: now,
      } as Partial<JobRow>,
      trx,
    );
    if (!row) return false;
    await trx('job_attempts')
      .where({ job_id: job.id, attempt: row.attempt })
      .update({ status: 'running', started_at: now });
    return true;
  }

  /**
   * Ends the current attempt of a job still in one of `from` with its outcome, storing the artifacts that come
   * with it. A failure the retry policy retries queues the job's next attempt, which continues from the latest
   * checkpoint; anything else ends the job. A job that already ended keeps its outcome (and its artifacts).
   * Returns what happened, or undefined when the job was not in `from`.
   */
  async finish(
    id: string,
    from: readonly JobStatus[],
    outcome: JobOutcome,
    trx?: Knex,
    onlyAttempt?: number,
  ): Promise<AttemptEnd | undefined> {
    if (!trx) return this.db.transaction((own) => this.finish(id, from, outcome, own, onlyAttempt));
    const job = await trx('jobs')
      .where({ id })
      .whereIn('status', from)
      .forUpdate()
      .first<JobRow | undefined>();
    // The word of an attempt that already ended (a cluster reporting an old Job) is not about the current one.
    if (!job || (onlyAttempt !== undefined && job.attempt !== onlyAttempt)) return undefined;
    const unreferenced = await this.upsertArtifacts(id, outcome.artifacts, trx);
    const error = outcome.status === 'failed' ? outcome.error : undefined;
    await trx('job_attempts')
      .where({ job_id: id, attempt: job.attempt })
      .update({
        status: outcome.status,
        ended_at: trx.fn.now(),
        error_code: error?.code ?? null,
        error_message: error?.message.slice(0, 4000) ?? null,
      });
    const trained = trx.raw(
      'trained_seconds + coalesce(extract(epoch from now() - attempt_started_at)::int, 0)',
    ) as unknown as number;
    const endedAt = new Date();
    if (error && isRetried(job, error)) {
      await this.beginAttempt(job, from, { type: 'retrying', error }, trx, { trained_seconds: trained });
      afterCommit(trx, () => this.metrics.attemptEnded(job, outcome.status, error.code, true, endedAt));
      return { end: 'retrying', unreferenced };
    }
    const patch: Partial<JobRow> | Record<string, unknown> =
      outcome.status === 'succeeded'
        ? {
            // Every epoch ran; a count from storage also fills in a job whose progress reports never came.
            epoch: trx.raw('greatest(epoch, total_epochs, ?::int)', [outcome.epochs ?? 0]),
            total_epochs: trx.raw('greatest(total_epochs, ?::int)', [outcome.epochs ?? 0]),
            ...(outcome.metrics && Object.keys(outcome.metrics).length
              ? { latest_metrics: JSON.stringify(outcome.metrics) }
              : {}),
          }
        : error
          ? { error_code: error.code, error_message: error.message.slice(0, 4000) }
          : {};
    await this.transition(
      id,
      from,
      outcome.status,
      { ...patch, finished_at: endedAt, trained_seconds: trained } as Partial<JobRow>,
      trx,
    );
    afterCommit(trx, () => this.metrics.attemptEnded(job, outcome.status, error?.code, false, endedAt));
    return { end: 'ended', unreferenced };
  }

  /** Fails a job still in one of `from` (or retries it, as `finish`); a job that already ended keeps its outcome. */
  async fail(
    id: string,
    from: readonly JobStatus[],
    error: JobError,
    trx?: Knex,
    onlyAttempt?: number,
  ): Promise<AttemptEnd | undefined> {
    return this.finish(id, from, { status: 'failed', error, artifacts: [] }, trx, onlyAttempt);
  }

  /** Fails (or retries) every unfinished job placed on one executor instance, which died; returns their ids. */
  async failActiveAt(placementKey: string, value: string, error: JobError): Promise<string[]> {
    const rows = await this.db('jobs')
      .whereIn('status', PLACED)
      .whereRaw('placement ->> ? = ?', [placementKey, value])
      .select<{ id: string }[]>('id');
    const ended: string[] = [];
    for (const { id } of rows) if (await this.fail(id, PLACED, error)) ended.push(id);
    return ended;
  }

  /**
   * The user resumes a failed or cancelled job from its last checkpoint: its next attempt is queued. Returns the
   * queued row, or undefined when the job is no longer failed or cancelled.
   */
  async resume(id: string): Promise<JobRow | undefined> {
    return this.db.transaction(async (trx) => {
      const from: JobStatus[] = ['failed', 'cancelled'];
      const job = await trx('jobs').where({ id }).whereIn('status', from).forUpdate().first<JobRow>();
      if (!job) return undefined;
      afterCommit(trx, () => this.metrics.resumed(job.framework));
      return this.beginAttempt(job, from, { type: 'resumed' }, trx, {
        error_code: null,
        error_message: null,
        finished_at: null,
        cancel_requested_at: null,
      });
    });
  }

  /**
   * Queues the job's next attempt, continuing from its latest checkpoint: a backend event says so (numbered after
   * every event stored so far; the next attempt's events follow it), the tokens of earlier attempts are revoked,
   * and progress events of epochs the next attempt trains again are marked superseded.
   */
  private async beginAttempt(
    job: JobRow,
    from: readonly JobStatus[],
    reason: { type: 'retrying'; error: JobError } | { type: 'resumed' },
    trx: Knex,
    patch: Partial<JobRow> | Record<string, unknown>,
  ): Promise<JobRow> {
    const next = job.attempt + 1;
    const resume = await this.resumePoint(job.id, trx);
    const fromEpoch = resume?.epoch ?? 0;
    const eventSeq = await this.events.append(
      job.id,
      job.attempt,
      reason.type,
      {
        nextAttempt: next,
        resumeFromEpoch: resume ? fromEpoch : null,
        ...(reason.type === 'retrying' ? { error: reason.error } : {}),
      },
      trx,
    );
    await this.events.supersedeEpochsAfter(job.id, fromEpoch, trx);
    await trx('job_attempts').insert({
      job_id: job.id,
      attempt: next,
      first_seq: eventSeq + 1,
      resumed_from_epoch: resume ? fromEpoch : null,
      status: 'queued',
    });
    const row = await this.transition(
      job.id,
      from,
      'queued',
      {
        ...patch,
        attempt: next,
        handovers: 0,
        callback_token_hashes: [],
        epoch: fromEpoch,
        queued_at: trx.fn.now() as unknown as Date,
        placement: null,
        dispatched_at: null,
        attempt_started_at: null,
        last_heartbeat_at: null,
        phase: null,
        last_progress_at: null,
        stall_limit_seconds: null,
      } as Partial<JobRow>,
      trx,
    );
    if (!row) throw new Error(`job ${job.id} left ${from.join('/')} while its row was locked`);
    return row;
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

  /** The placed jobs, with only the fields their executor and the job monitor read. */
  async listActive(): Promise<ActiveJob[]> {
    return this.db('jobs')
      .whereIn('status', PLACED)
      .select<ActiveJob[]>(...ACTIVE_JOB_COLUMNS);
  }

  /**
   * Records a job's artifacts, one per kind; a late checkpoint of an older epoch never replaces a newer one.
   * Returns the checkpoint URIs no artifact refers to any more (the one replaced, or the late one refused), whose
   * objects may go: trainers write each snapshot under a key of its own. An earlier attempt's log and metrics
   * stay in storage for a post-mortem.
   */
  async upsertArtifacts(jobId: string, artifacts: Artifact[], trx: Knex = this.db): Promise<string[]> {
    const unreferenced: string[] = [];
    for (const a of artifacts) {
      const before = await trx('artifacts')
        .where({ job_id: jobId, kind: a.kind })
        .forUpdate()
        .first<{ uri: string } | undefined>('uri');
      const { rows } = await trx.raw<{ rows: unknown[] }>(
        `insert into artifacts (job_id, kind, uri, bytes, epoch, sha256, updated_at) values (?, ?, ?, ?, ?, ?, now())
         on conflict (job_id, kind) do update set uri = excluded.uri, bytes = excluded.bytes, epoch = excluded.epoch,
           sha256 = excluded.sha256, updated_at = now()
         where artifacts.epoch is null or excluded.epoch is null or excluded.epoch >= artifacts.epoch
         returning uri`,
        [jobId, a.kind, a.uri, a.bytes, a.epoch ?? null, a.sha256 ?? null],
      );
      if (!before || before.uri === a.uri || !CHECKPOINT_KINDS.includes(a.kind)) continue;
      unreferenced.push(rows.length ? before.uri : a.uri);
    }
    return unreferenced;
  }
}
