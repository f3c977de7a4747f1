import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scrapeMetrics } from '@vtp/service-kit';
import type { Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from './support/apiClient.ts';
import { TcpProxy } from './support/tcpProxy.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from './support/throwawayDatabase.ts';
import { waitFor } from './support/training.ts';
import { uploadSample } from './support/uploads.ts';

/**
 * A hand-over fails while the database is away, so the dispatcher cannot record the failure: the backend must
 * live on (once, an unhandled rejection here killed it in the soak), and the job must be handed over again once
 * the database is back. The trainer is a stand-in whose answers the test controls; PostgreSQL is real, behind a
 * proxy the test turns off.
 */
describe('a hand-over that fails during a database outage', () => {
  let database: ThrowawayDatabase;
  let proxy: TcpProxy;
  let trainer: Server;
  let t: TestBackend;
  let user: ApiClient;
  const starts: ServerResponse[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    database = await createThrowawayDatabase();
    const real = new URL(database.url);
    proxy = new TcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
    const proxied = new URL(database.url);
    proxied.port = String(await proxy.start());
    // Answers readiness at once and holds every start request until the test answers it.
    trainer = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/v1/trainings') return void starts.push(res);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((done) => trainer.listen(0, '127.0.0.1', done));
    const { port } = trainer.address() as AddressInfo;
    t = await startTestBackend({
      DATABASE_URL: proxied.toString(),
      RUN_DISPATCHER: 'true',
      TRAINER_URLS: `timm=http://127.0.0.1:${port}`,
      TRAINER_TOKEN: 'trainer-token-0123456789abcdef',
      MONITOR_INTERVAL_MS: '500',
      DISPATCH_TIMEOUT_SECONDS: '1',
    });
    user = await t.newUser();
  });
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    for (const res of starts) res.destroy();
    await t?.stop();
    await new Promise((done) => trainer?.close(done));
    await proxy?.stop();
    await database?.drop();
  });

  it('keeps the backend alive and hands the job over again when the database is back', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const job = (
      await user.post<Job>('/v1/jobs', { framework: 'timm', model: 'test_resnet', datasetId: dataset.id })
    ).body;
    await waitFor('the first hand-over', async () => starts.length === 1, 30_000);

    proxy.mode = 'refuse';
    proxy.cut();
    starts[0]?.writeHead(500, { 'content-type': 'application/json' }).end('{}');
    // The dispatcher now tries to record the failed hand-over, and cannot.
    await new Promise((r) => setTimeout(r, 3000));
    // /metrics still answers without the database: the failed hand-over is counted, job counts go absent.
    const during = await scrapeMetrics(t.backend.url);
    expect(during.sum('vtp_dispatch_failures_total', { framework: 'timm', reason: 'trainer_error' })).toBe(1);
    expect(during.has('vtp_jobs')).toBe(false);
    proxy.mode = 'forward';

    await waitFor('another hand-over once the database is back', async () => starts.length >= 2, 60_000);
    expect(rejections).toEqual([]);
    const seen = await user.get<Job>(`/v1/jobs/${job.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.status).toBe('dispatching');
  });
});
