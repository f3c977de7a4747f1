import type { TrainerEvent } from '@vtp/shared-schemas';
import knex from 'knex';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventIngest } from '../src/jobs/eventIngest.ts';
import { JobEventStore, type RoutineReportRequest } from '../src/jobs/jobEventStore.ts';
import { JobStore } from '../src/jobs/jobStore.ts';
import { JobMetrics } from '../src/observability/jobMetrics.ts';
import { dispatchByHand } from './support/dispatchByHand.ts';
import { createJob, reportEvent } from './support/jobs.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { uploadSample } from './support/uploads.ts';

/** The event store with the one-statement path switched off: every report goes through the transaction. */
class TransactionOnly extends JobEventStore {
  override async storeRoutine(reports: readonly RoutineReportRequest[]): Promise<undefined[]> {
    return reports.map(() => undefined);
  }
}

/** The one-statement path, noting how many jobs' reports each statement carried. */
class CountingStore extends JobEventStore {
  readonly groups: number[] = [];
  override async storeRoutine(reports: readonly RoutineReportRequest[]) {
    this.groups.push(reports.length);
    return super.storeRoutine(reports);
  }
}

/** A histogram's values carry the series they belong to (`_bucket`, `_sum`, `_count`). */
const nameOf = (value: object) => (value as { metricName?: string }).metricName ?? '';

/** A small deterministic generator (mulberry32), so a failing sequence can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random batches as a trainer sends them: progress (epochs going up, repeated and going back), heartbeats with any
 * subset of their fields, logs, and redeliveries of earlier events (the trainer never saw their answer).
 */
function randomBatches(seed: number, count: number): TrainerEvent[][] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  const sent: TrainerEvent[] = [];
  const batches: TrainerEvent[][] = [];
  let seq = 2;
  let epoch = 0;
  for (let batch = 0; batch < count; batch++) {
    const events: TrainerEvent[] = [];
    const size = 1 + Math.floor(next() * 4);
    // A redelivery: the head of an earlier batch again (the trainer never saw its answer).
    if (sent.length > 0 && next() < 0.2) events.push(pick(sent));
    while (events.length < size) {
      const timestamp = new Date(Date.UTC(2026, 11, 2, 1, 0, seq)).toISOString();
      const kind = pick(['progress', 'progress', 'heartbeat', 'heartbeat', 'log'] as const);
      if (kind === 'progress') {
        epoch = Math.max(1, epoch + pick([1, 1, 1, 0, -1]));
        events.push({
          seq: seq++,
          timestamp,
          type: 'progress',
          epoch,
          totalEpochs: 50,
          metrics: { 'train/loss': Number(next().toFixed(4)), 'val/top1': Math.round(next() * 100) },
        });
      } else if (kind === 'heartbeat') {
        events.push({
          seq: seq++,
          timestamp,
          type: 'heartbeat',
          ...(next() < 0.5 ? { phase: pick(['training', 'uploading_artifacts'] as const) } : {}),
          ...(next() < 0.5 ? { lastProgressAt: timestamp } : {}),
          ...(next() < 0.3 ? { stallLimitSeconds: 60 + Math.floor(next() * 600) } : {}),
        });
      } else {
        events.push({ seq: seq++, timestamp, type: 'log', level: 'info', message: `line ${seq}` });
      }
    }
    events.sort((a, b) => a.seq - b.seq);
    const batchEvents = events.filter((e, i) => i === 0 || e.seq !== events[i - 1]?.seq);
    batches.push(batchEvents);
    sent.push(...batchEvents);
  }
  return batches;
}

/**
 * Routine reports of a running job take one statement (JobEventStore.storeRoutine) instead of the general
 * transaction. Both must leave the same job and the same events, whatever the trainer sends: the same random
 * batches of progress (epochs going up, repeated and going back), heartbeats with any subset of their fields,
 * logs and redelivered duplicates go to two running jobs, one through each path, and are compared after every
 * batch.
 */
describe('routine reports in one statement', () => {
  let t: TestBackend;
  let db: ReturnType<typeof knex>;
  const jobs: { id: string; token: string; ingest: EventIngest; registry: Registry }[] = [];
  /** A running job (its `started` reported), and its callback token. */
  let runningJob: () => Promise<{ id: string; token: string }>;
  const ingestWith = (events: JobEventStore) => {
    const registry = new Registry();
    const metrics = new JobMetrics(registry);
    return {
      ingest: new EventIngest(new JobStore(db, events, metrics), events, 'vtp-test', metrics),
      registry,
    };
  };

  beforeAll(async () => {
    t = await startTestBackend();
    db = knex({ client: 'pg', connection: t.database.url });
    const user = await t.newUser();
    const dataset = await uploadSample(user, 'imagefolder');
    runningJob = async () => {
      const { id } = await createJob(user, dataset.id, { framework: 'timm', model: 'test_resnet' });
      const token = await dispatchByHand(t.database.url, id);
      const started = await reportEvent(t.anonymous, id, token, {
        seq: 1,
        type: 'started',
        totalEpochs: 50,
        timestamp: '2026-12-02T01:00:00.000Z',
      });
      expect(started.status).toBe(200);
      return { id, token };
    };
    for (const events of [new JobEventStore(db), new TransactionOnly(db)])
      jobs.push({ ...(await runningJob()), ...ingestWith(events) });
  });
  afterAll(async () => {
    await db?.destroy();
    await t?.stop();
  });

  const jobState = async (id: string) =>
    db('jobs')
      .where({ id })
      .first(
        'status',
        'epoch',
        'total_epochs',
        'latest_metrics',
        'phase',
        'last_progress_at',
        'stall_limit_seconds',
      );
  const storedEvents = async (id: string) =>
    db('job_events')
      .where({ job_id: id })
      .orderBy('seq')
      .select('seq', 'attempt', 'type', 'timestamp', 'payload');

  it('leaves the same job and events as the transaction, batch after batch', async () => {
    for (const batchEvents of randomBatches(7, 60)) {
      const [fast, general] = await Promise.all(
        jobs.map((job) => job.ingest.ingestBatch(job.id, job.token, batchEvents)),
      );
      expect(fast).toEqual(general);
      expect(await jobState(jobs[0]!.id)).toEqual(await jobState(jobs[1]!.id));
    }
    expect(await storedEvents(jobs[0]!.id)).toEqual(await storedEvents(jobs[1]!.id));
    // The same metrics: events by type and result, one first epoch, a latency per stored event.
    const counted = async (registry: Registry) =>
      Promise.all(
        [
          'vtp_callback_events_total',
          'vtp_job_time_to_first_epoch_seconds',
          'vtp_callback_latency_seconds',
        ].map(async (name) =>
          (await registry.getSingleMetric(name)?.get())?.values.filter(
            (v) => !nameOf(v).endsWith('_bucket') && !nameOf(v).endsWith('_sum'),
          ),
        ),
      );
    const [fastMetrics, generalMetrics] = await Promise.all(jobs.map((job) => counted(job.registry)));
    expect(fastMetrics).toEqual(generalMetrics);
    const duplicates = fastMetrics?.[0]?.filter((v) => v.labels.result === 'duplicate');
    expect(duplicates?.reduce((total, v) => total + v.value, 0)).toBeGreaterThan(0);
    const firstEpochs = fastMetrics?.[1]?.find(
      (v) => nameOf(v).endsWith('_count') && v.labels.framework === 'timm',
    );
    expect(firstEpochs?.value).toBe(1);
    const state = await jobState(jobs[0]!.id);
    expect(state.status).toBe('running');
    expect(state.epoch).toBeGreaterThan(3);
  });

  it("stores several jobs' reports in one statement, each job left as its own report alone leaves it", async () => {
    const counting = new CountingStore(db);
    const grouped = ingestWith(counting).ingest;
    const general = ingestWith(new TransactionOnly(db)).ingest;
    // Each job its own stream, and a twin that takes the same stream through the transaction alone.
    const pairs = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => ({
        job: await runningJob(),
        twin: await runningJob(),
        batches: randomBatches(11 + i, 40),
      })),
    );
    const together = pairs.map(({ job }) => job);
    for (let b = 0; b < 40; b++) {
      // All at once, as many trainers report: what arrives while a statement runs goes in the next one.
      const answers = await Promise.all(
        pairs.flatMap(({ job, twin, batches }) => [
          grouped.ingestBatch(job.id, job.token, batches[b]!),
          general.ingestBatch(twin.id, twin.token, batches[b]!),
        ]),
      );
      for (let i = 0; i < answers.length; i += 2) expect(answers[i]).toEqual(answers[i + 1]);
      for (const { job, twin } of pairs) expect(await jobState(job.id)).toEqual(await jobState(twin.id));
    }
    const events = async (id: string) =>
      (await storedEvents(id)).map(({ seq, type, payload }) => ({ seq, type, payload }));
    for (const { job, twin } of pairs) expect(await events(job.id)).toEqual(await events(twin.id));
    // The reports did share statements, never two of one job in one.
    expect(Math.max(...counting.groups)).toBeGreaterThan(1);
    expect(Math.max(...counting.groups)).toBeLessThanOrEqual(together.length);
    // A wrong token among them is its own report's fault alone.
    const intruder = {
      seq: 20_000,
      timestamp: new Date().toISOString(),
      type: 'log',
      level: 'info',
      message: 'x',
    } as const;
    const [refused, accepted] = await Promise.allSettled([
      grouped.ingestBatch(together[0]!.id, pairs[2]!.twin.token, [intruder]),
      grouped.ingestBatch(together[1]!.id, together[1]!.token, [intruder]),
    ]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { status: 401 } });
    expect(accepted).toMatchObject({ status: 'fulfilled', value: [{ seq: 20_000, accepted: true }] });
  });

  it('takes the general path for a job that is not running under the token: 401 for a wrong token', async () => {
    const job = jobs[0]!;
    const routine: TrainerEvent = {
      seq: 10_000,
      timestamp: new Date().toISOString(),
      type: 'log',
      level: 'info',
      message: 'x',
    };
    await expect(job.ingest.ingestBatch(job.id, jobs[1]!.token, [routine])).rejects.toMatchObject({
      status: 401,
    });
    expect(await db('job_events').where({ job_id: job.id, seq: 10_000 }).first()).toBeUndefined();
  });
});
