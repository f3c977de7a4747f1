import knex from 'knex';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEventStore } from '../src/jobs/jobEventStore.ts';
import { JobStore } from '../src/jobs/jobStore.ts';
import { JobMetrics } from '../src/observability/jobMetrics.ts';
import { createJob } from './support/jobs.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { uploadSample } from './support/uploads.ts';

/**
 * Who gets the next slot: claims run against the real queue in PostgreSQL (the dispatcher is off, so each
 * claim is exact), with users who queued in the worst order for a first-come queue: all of one user's jobs
 * before anyone else's.
 */
describe('dispatch fairness', () => {
  let t: TestBackend;
  let db: ReturnType<typeof knex>;
  let jobs: JobStore;
  const users: { jobIds: string[] }[] = [];

  beforeAll(async () => {
    t = await startTestBackend({ MAX_QUEUED_JOBS_PER_USER: '10' });
    db = knex({ client: 'pg', connection: t.database.url });
    jobs = new JobStore(db, new JobEventStore(db), new JobMetrics(new Registry()));
    for (let u = 0; u < 3; u++) {
      const client = await t.newUser();
      const dataset = await uploadSample(client, 'imagefolder');
      const jobIds: string[] = [];
      for (let i = 0; i < 6; i++) {
        jobIds.push((await createJob(client, dataset.id, { framework: 'timm', model: 'test_resnet' })).id);
      }
      users.push({ jobIds });
    }
  });
  afterAll(async () => {
    await db?.destroy();
    await t?.stop();
  });

  const ownerOf = (jobId: string) => users.findIndex((u) => u.jobIds.includes(jobId));
  const claimOwners = async (perFramework: number, perUser: number, max = 20) =>
    (await jobs.claimQueued({ perFramework, perUser }, max)).map((c) => ownerOf(c.row.id));

  it('shares slots round-robin, each user in the order they queued, within both limits', async () => {
    // Six slots for three users who queued 6 jobs each, one after the other: two each, not six of the first.
    const first = await claimOwners(6, 4);
    expect(first).toEqual([0, 1, 2, 0, 1, 2]);
    const claimed = await db('jobs').where({ status: 'dispatching' }).pluck('id');
    for (const u of users) {
      expect(claimed.filter((id: string) => u.jobIds.includes(id)).sort()).toEqual(
        u.jobIds.slice(0, 2).sort(),
      );
    }
    // Full framework: nothing more, however many wait.
    expect(await claimOwners(6, 4)).toEqual([]);

    // Two of ada's jobs end: she now runs fewer than the others, so both freed slots go to her first...
    await db('jobs')
      .whereIn('id', users[0]!.jobIds.slice(0, 2))
      .update({ status: 'succeeded', finished_at: db.fn.now() });
    expect(await claimOwners(6, 4)).toEqual([0, 0]);
    // ...then, all at two running, a round from the first queuer on, until the per-user limit (4) stops each.
    expect(await claimOwners(10, 4)).toEqual([0, 1, 2, 0]);
    expect(await claimOwners(20, 4)).toEqual([1, 2]);
    expect(await claimOwners(20, 4)).toEqual([]);
  });

  it('takes at most `max` per claim, the rest stays queued for the next', async () => {
    await db('jobs').whereNot({ status: 'queued' }).update({ status: 'succeeded', finished_at: db.fn.now() });
    const queued = Number((await db('jobs').where({ status: 'queued' }).count({ n: '*' }))[0]!.n);
    expect(queued).toBeGreaterThan(3);
    expect(await claimOwners(100, 100, 3)).toHaveLength(3);
    expect(Number((await db('jobs').where({ status: 'queued' }).count({ n: '*' }))[0]!.n)).toBe(queued - 3);
  });
});
