import type { BackendReadiness } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from './support/apiClient.ts';
import { dispatchByHand } from './support/dispatchByHand.ts';
import { createJob } from './support/jobs.ts';
import { TcpProxy } from './support/tcpProxy.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from './support/throwawayDatabase.ts';
import { waitFor } from './support/training.ts';
import { uploadSample } from './support/uploads.ts';

type ProblemBody = { code: string };

/** The backend's PostgreSQL goes down, then hangs, then comes back: a real server behind a proxy the test controls. */
describe('a database outage', () => {
  let database: ThrowawayDatabase;
  let proxy: TcpProxy;
  let t: TestBackend;
  let user: ApiClient;
  let proxyPort: string;

  beforeAll(async () => {
    database = await createThrowawayDatabase();
    const real = new URL(database.url);
    proxy = new TcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
    const proxied = new URL(database.url);
    proxyPort = String(await proxy.start());
    proxied.port = proxyPort;
    t = await startTestBackend({ DATABASE_URL: proxied.toString() });
    user = await t.newUser();
  });
  /** A queued job of a new dataset of the user's. */
  const dispatchedJob = async (name: string) => {
    const dataset = await uploadSample(user, 'imagefolder', name);
    return createJob(user, dataset.id, { framework: 'timm', model: 'test_resnet' });
  };
  afterAll(async () => {
    await t?.stop();
    await proxy?.stop();
    await database?.drop();
  });

  it('keeps a live event stream through an outage: the events stored after it still arrive', async () => {
    const job = await dispatchedJob('an event stream through an outage');
    const token = await dispatchByHand(database.url, job.id);
    const stream = await fetch(`${t.backend.url}/v1/jobs/${job.id}/events`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${user.key}` },
    });
    const reader = stream.body!.getReader();
    let seen = '';
    const read = async (until: string) => {
      const deadline = Date.now() + 30_000;
      while (!seen.includes(until) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      return seen.includes(until);
    };
    proxy.mode = 'refuse';
    proxy.cut(); // the notifier's LISTEN connection goes too
    await new Promise((r) => setTimeout(r, 2000));
    proxy.mode = 'forward';
    const started = { seq: 1, type: 'started', totalEpochs: 3, timestamp: new Date().toISOString() };
    await waitFor(
      'the callback to be taken again',
      async () => {
        const res = await t.anonymous
          .post(`/v1/jobs/${job.id}/callback`, started, { key: token })
          .catch(() => undefined);
        return res?.status === 200;
      },
      20_000,
    );
    expect(await read('event: started')).toBe(true);
    await reader.cancel();
  }, 60_000);

  it('answers 503 with Retry-After while the database is down, and readiness does not say where it is', async () => {
    proxy.mode = 'refuse';
    proxy.cut();
    const res = await user.get<ProblemBody>('/v1/datasets');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.body.code).toBe('database_unavailable');
    const ready = await t.anonymous.get<BackendReadiness>('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toEqual({ ok: false, detail: 'database unavailable' });
    expect(ready.text).not.toContain(proxyPort);
    expect((await t.anonymous.get('/healthz')).status).toBe(200);
  });

  it('answers 503 within seconds, not never, while the database hangs', async () => {
    proxy.mode = 'hang';
    proxy.cut();
    const started = Date.now();
    const res = await user.get<ProblemBody>('/v1/datasets');
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);

  it('answers every callback 503 within seconds while the database hangs, however many wait their turn', async () => {
    proxy.mode = 'forward';
    const job = await dispatchedJob('callbacks in a hang');
    const token = await dispatchByHand(database.url, job.id);
    const started = { seq: 1, type: 'started', totalEpochs: 3, timestamp: new Date().toISOString() };
    expect((await t.anonymous.post(`/v1/jobs/${job.id}/callback`, started, { key: token })).status).toBe(200);
    proxy.mode = 'hang';
    proxy.cut();
    // A trainer's retries pile up: one job's reports go one per statement, each stuck until its connection
    // attempt times out (5 s). Those still waiting for a statement give up, as a request waiting for the pool does.
    const begun = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const heartbeat = { seq: 2 + i, type: 'heartbeat', timestamp: new Date().toISOString() };
        const res = await t.anonymous.post<ProblemBody>(`/v1/jobs/${job.id}/callback`, heartbeat, {
          key: token,
        });
        return { status: res.status, code: res.body.code, ms: Date.now() - begun };
      }),
    );
    for (const answer of answers) expect(answer).toMatchObject({ status: 503, code: 'database_unavailable' });
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(20_000);
  }, 60_000);

  it('serves again as soon as the database is back', async () => {
    proxy.mode = 'forward';
    proxy.cut();
    expect((await user.get('/v1/datasets')).status).toBe(200);
    expect((await t.anonymous.get<BackendReadiness>('/readyz')).body.ready).toBe(true);
  });
});
