import type { TrainerEvent } from '@vtp/shared-schemas';
import knex from 'knex';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventIngest } from '../src/jobs/eventIngest.ts';
import { JobEventStore } from '../src/jobs/jobEventStore.ts';
import { JobStore } from '../src/jobs/jobStore.ts';
import { JobMetrics } from '../src/observability/jobMetrics.ts';
import { dispatchByHand } from './support/dispatchByHand.ts';
import { createJob, reportEvent } from './support/jobs.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { uploadSample } from './support/uploads.ts';

/** The event store with the one-statement path switched off: every report goes through the transaction. */
class TransactionOnly extends JobEventStore {
  override async storeRoutine(): Promise<undefined> {
    return undefined;
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

  beforeAll(async () => {
    t = await startTestBackend();
    db = knex({ client: 'pg', connection: t.database.url });
    const user = await t.newUser();
    const dataset = await uploadSample(user, 'imagefolder');
    for (const events of [new JobEventStore(db), new TransactionOnly(db)]) {
      const { id } = await createJob(user, dataset.id, { framework: 'timm', model: 'test_resnet' });
      const token = await dispatchByHand(t.database.url, id);
      expect(
        (
          await reportEvent(t.anonymous, id, token, {
            seq: 1,
            type: 'started',
            totalEpochs: 50,
            timestamp: '2026-12-02T01:00:00.000Z',
          })
        ).status,
      ).toBe(200);
      const registry = new Registry();
      const metrics = new JobMetrics(registry);
      jobs.push({
        id,
        token,
        ingest: new EventIngest(new JobStore(db, events, metrics), events, 'vtp-test', metrics),
        registry,
      });
    }
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
    const next = random(7);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
    const sent: TrainerEvent[] = [];
    let seq = 2;
    let epoch = 0;
    for (let batch = 0; batch < 60; batch++) {
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
      const [fast, general] = await Promise.all(
        jobs.map((job) => job.ingest.ingestBatch(job.id, job.token, batchEvents)),
      );
      expect(fast).toEqual(general);
      expect(await jobState(jobs[0]!.id)).toEqual(await jobState(jobs[1]!.id));
      sent.push(...batchEvents);
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
