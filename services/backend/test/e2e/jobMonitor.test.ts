import { createLogger } from '@vtp/service-kit';
import type { Job } from '@vtp/shared-schemas';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobMonitor } from '../../src/dispatch/jobMonitor.ts';
import { LocalExecutionManager } from '../../src/execution/local/localExecutionManager.ts';
import type { TrainerProcess } from '../../src/execution/local/trainerProcess.ts';
import { TrainerClient } from '../../src/execution/trainerClient.ts';
import { JobStore } from '../../src/jobs/jobStore.ts';
import type { ApiClient } from '../support/apiClient.ts';
import { dispatchByHand } from '../support/dispatchByHand.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { startTimmTrainer } from '../support/trainerService.ts';
import { uploadSample } from '../support/uploads.ts';

const TOKEN = 'trainer-token-for-the-monitor-test-0';
const MINUTE = 60_000;

/**
 * The job monitor asks a real trainer service before it concludes anything; the clock is passed in so each
 * case is exact.
 */
describe('job monitor', () => {
  let t: TestBackend;
  let user: ApiClient;
  let trainer: TrainerProcess;
  let trainerUrl: string;
  let db: ReturnType<typeof knex>;
  let jobs: JobStore;
  let datasetId: string;
  const logger = createLogger('monitor-test', 'silent');

  beforeAll(async () => {
    t = await startTestBackend();
    user = await t.newUser();
    datasetId = (await uploadSample(user, 'imagefolder')).id;
    ({ trainer, url: trainerUrl } = await startTimmTrainer(t, TOKEN));
    db = knex({ client: 'pg', connection: t.database.url });
    jobs = new JobStore(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await trainer?.stop();
    await t?.stop();
  });

  const monitor = () => {
    const client = new TrainerClient(TOKEN);
    const manager = new LocalExecutionManager(
      { timm: { kind: 'url', url: trainerUrl }, ultralytics: { kind: 'url', url: 'http://127.0.0.1:9' } },
      client,
      logger,
    );
    return new JobMonitor(
      { jobs, manager, logger, onChange: () => undefined },
      {
        intervalMs: 1000,
        dispatchTimeoutMs: MINUTE,
        heartbeatTimeoutMs: MINUTE,
        maxAttempts: 2,
        deadlineGraceMs: MINUTE,
      },
    );
  };
  const newJob = async (status: 'dispatching' | 'running', attempts = 1) => {
    const job = (await user.post<Job>('/v1/jobs', { framework: 'timm', model: 'test_resnet', datasetId }))
      .body;
    await dispatchByHand(t.database.url, job.id);
    const longAgo = new Date(Date.now() - 10 * MINUTE);
    await db('jobs')
      .where({ id: job.id })
      .update({
        status,
        attempts,
        dispatched_at: longAgo,
        started_at: status === 'running' ? longAgo : null,
        last_heartbeat_at: status === 'running' ? longAgo : null,
        placement: JSON.stringify({ mode: 'subprocess', trainerUrl, instance: trainerUrl }),
      });
    return job.id;
  };
  const state = async (id: string) => (await user.get<Job>(`/v1/jobs/${id}`)).body;

  it('does not count silence from before its own start: a backend that was down blames no job', async () => {
    const id = await newJob('running');
    const m = monitor();
    await m.check(Date.now());
    expect((await state(id)).status).toBe('running');
  });

  it('fails a silent running job as lost once its trainer says it does not know it', async () => {
    const id = await newJob('running');
    const m = monitor();
    await m.check(Date.now() + 2 * MINUTE);
    const job = await state(id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('lost');
    expect(job.error?.message).toContain('unknown');
  });

  it('queues an unconfirmed hand-over again, and fails it as dispatch_timeout after the last attempt', async () => {
    const retried = await newJob('dispatching', 1);
    const exhausted = await newJob('dispatching', 2);
    await monitor().check(Date.now() + 2 * MINUTE);
    expect((await state(retried)).status).toBe('queued');
    const failed = await state(exhausted);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('dispatch_timeout');
  });

  it('fails a training past its time limit and asks its trainer to stop it', async () => {
    const id = await newJob('running');
    await db('jobs').where({ id }).update({ max_duration_seconds: 60, last_heartbeat_at: new Date() });
    await monitor().check(Date.now() + 3 * MINUTE);
    const job = await state(id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('time_limit_exceeded');
  });
});
