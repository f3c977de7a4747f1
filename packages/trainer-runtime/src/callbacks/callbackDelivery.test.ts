import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vtp/service-kit';
import type { TrainerEvent } from '@vtp/shared-schemas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallbackServer } from '../../test/callbackServer.ts';
import { CallbackDelivery, type NewTrainerEvent } from './callbackDelivery.ts';
import { CallbackSender } from './deliveryPolicy.ts';
import { createHttpClient } from './httpClient.ts';
import { Outbox } from './outbox.ts';

const jobId = '5d1f7c1e-98a4-4a52-8c39-1f2e3d4c5b6a';
const token = 'job-callback-token-0123456789';
const logger = createLogger('callbacks-test', 'silent');

// Small numbers so that retries, the breaker and redelivery all happen within a test.
const fastPolicy = {
  attemptTimeoutMs: 2000,
  maxAttempts: 3,
  initialDelayMs: 20,
  maxDelayMs: 100,
  maxRetryAfterMs: 5000,
  breakerThreshold: 3,
  halfOpenAfterMs: 300,
};

function delivery(
  outboxDir: string,
  sender = new CallbackSender(createHttpClient(), fastPolicy),
): CallbackDelivery {
  return new CallbackDelivery({
    sender,
    outbox: new Outbox(outboxDir),
    logger,
    redelivery: { initialDelayMs: 50, maxDelayMs: 200 },
  });
}

const checkpoint = (epoch: number): NewTrainerEvent => ({
  type: 'checkpoint',
  epoch,
  artifacts: [{ kind: 'last', uri: `s3://b/jobs/${jobId}/weights/last.pt`, bytes: 100 + epoch, epoch }],
});
const progress = (epoch: number): NewTrainerEvent => ({
  type: 'progress',
  epoch,
  totalEpochs: 3,
  metrics: { 'train/loss': 1 / epoch },
});

async function waitForFile(dir: string, present: boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await readdir(dir).catch(() => [])).length > 0 !== present) {
    if (Date.now() > deadline) throw new Error(`outbox never became ${present ? 'non-empty' : 'empty'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('callback delivery against a real HTTP server that fails', () => {
  let server: CallbackServer;
  let outboxDir: string;
  const open: CallbackDelivery[] = [];
  beforeEach(async () => {
    server = new CallbackServer();
    await server.start();
    outboxDir = await mkdtemp(join(tmpdir(), 'vtp-delivery-'));
  });
  afterEach(async () => {
    for (const d of open.splice(0)) await d.close();
    await server.stop();
    await rm(outboxDir, { recursive: true, force: true });
  });
  const target = () => ({
    url: server.callbackUrl(jobId),
    token,
    traceHeaders: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
  });

  it('delivers every event exactly once and in order through 503s, a 429 with Retry-After and an outage', {
    timeout: 30_000,
  }, async () => {
    const d = delivery(outboxDir);
    open.push(d);
    server.answerNext({ status: 503 }, { status: 503 }, { status: 429, headers: { 'Retry-After': '1' } });
    const sent: TrainerEvent[] = [];
    sent.push(d.send(jobId, target(), { type: 'started', totalEpochs: 3 }));
    sent.push(d.send(jobId, target(), progress(1)));
    sent.push(d.send(jobId, target(), checkpoint(1)));
    await server.waitFor('the first three events', () => server.events(jobId).length === 3);

    // The 429 said "in 1 second": the next attempt waited for it.
    const after429 = server.attempts.findIndex((a) => a.status === 429);
    expect(server.attempts[after429 + 1]!.at - server.attempts[after429]!.at).toBeGreaterThanOrEqual(950);

    // The early failures put the queue on disk; delivered, it is gone again.
    await waitForFile(outboxDir, false);

    // The backend goes away: the trainer keeps reporting, events wait on disk (a heartbeat does not).
    await server.stop();
    sent.push(d.send(jobId, target(), progress(2)));
    await waitForFile(outboxDir, true);
    const heartbeat = d.send(jobId, target(), { type: 'heartbeat' });
    sent.push(d.send(jobId, target(), checkpoint(2)));
    sent.push(d.send(jobId, target(), { type: 'log', level: 'warn', message: 'stray line' }));
    sent.push(d.send(jobId, target(), { type: 'completed', metrics: { 'train/loss': 0.3 }, artifacts: [] }));
    expect(d.pending(jobId)).toBe(4);
    await new Promise((r) => setTimeout(r, 500)); // refused connections meanwhile

    await server.start(); // same port
    await server.waitFor('the completed event', () =>
      server.events(jobId).some((e) => e.type === 'completed'),
    );

    const received = server.events(jobId);
    expect(received.map((e) => e.seq)).toEqual(sent.map((e) => e.seq));
    expect(received).toEqual(sent);
    expect(received.map((e) => e.seq)).not.toContain(heartbeat.seq);
    expect(server.invalid).toEqual([]);
    expect(new Set(server.accepted.map((r) => r.authorization))).toEqual(new Set([`Bearer ${token}`]));
    expect(server.accepted[0]?.traceparent).toBe(target().traceHeaders.traceparent);
    expect(await d.drain(5000)).toBe(true); // the server counts an event before its answer reaches us
    expect(d.pending()).toBe(0);
    await waitForFile(outboxDir, false);
  });

  it('drains a long backlog in a few batches, in order and exactly once, every epoch kept', {
    timeout: 30_000,
  }, async () => {
    const d = delivery(outboxDir);
    open.push(d);
    await server.stop();
    const sent = [d.send(jobId, target(), { type: 'started', totalEpochs: 1200 })];
    await waitForFile(outboxDir, true);
    for (let epoch = 1; epoch <= 1200; epoch++) sent.push(d.send(jobId, target(), progress(epoch)));
    sent.push(d.send(jobId, target(), { type: 'completed', metrics: {}, artifacts: [] }));
    await server.start();
    await server.waitFor('the completed event', () =>
      server.events(jobId).some((e) => e.type === 'completed'),
    );
    expect(server.events(jobId)).toEqual(sent);
    // 1,202 events in at most 500 per request.
    expect(server.batches.length).toBeLessThanOrEqual(4);
    expect(Math.max(...server.batches)).toBeLessThanOrEqual(500);
    await waitForFile(outboxDir, false);
  });

  it('a refused batch is sent again event by event, so only the event at fault is dropped', async () => {
    const d = delivery(outboxDir);
    open.push(d);
    await server.stop();
    const sent = [1, 2, 3].map((epoch) => d.send(jobId, target(), progress(epoch)));
    await waitForFile(outboxDir, true);
    server.answerNext({ status: 422 }, { status: 422 }); // the batch, then its first event alone
    await server.start();
    await server.waitFor('the last event', () => server.events(jobId).length === 2);
    expect(server.events(jobId)).toEqual(sent.slice(1));
    expect(server.batches).toEqual([1, 1]);
    // Batching resumes after the events that went alone.
    const more = [4, 5].map((epoch) => d.send(jobId, target(), progress(epoch)));
    await server.waitFor('the next events', () => server.events(jobId).length === 4);
    expect(server.events(jobId).slice(2)).toEqual(more);
  });

  it('drops an event the backend refuses with a 4xx other than 429, without retrying it', async () => {
    const d = delivery(outboxDir);
    open.push(d);
    server.answerNext({ status: 401 });
    const refused = d.send(jobId, target(), { type: 'started', totalEpochs: 1 });
    const next = d.send(jobId, target(), progress(1));
    await server.waitFor('the progress event', () => server.events(jobId).length === 1);
    expect(server.attempts.map((a) => a.status)).toEqual([401, 200]);
    expect(server.events(jobId).map((e) => e.seq)).toEqual([next.seq]);
    expect(refused.seq).toBeLessThan(next.seq);
    expect(await d.drain(1000)).toBe(true);
  });

  it('stops hammering a backend that keeps failing: the circuit opens for its origin', {
    timeout: 10_000,
  }, async () => {
    const requests: string[] = [];
    const sender = new CallbackSender(createHttpClient(), fastPolicy, (outcome) => requests.push(outcome));
    const d = delivery(outboxDir, sender);
    open.push(d);
    server.answerNext(...Array.from({ length: 100 }, () => ({ status: 503 })));
    const sent = d.send(jobId, target(), { type: 'started', totalEpochs: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    // What the trainer's metrics read: every request failed, the circuit is not closed, the event still waits.
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(new Set(requests)).toEqual(new Set(['failed']));
    expect(sender.circuitStates()).toEqual([expect.stringMatching(/^(open|half_open)$/)]);
    expect(d.oldestPendingAt()?.toISOString()).toBe(sent.timestamp);
    // Without the breaker: 3 attempts per round, a new round every 50-200 ms, over 20 requests. With it: the
    // 3 that open the circuit, then about one probe per 300 ms.
    expect(server.attempts.length).toBeGreaterThanOrEqual(4);
    expect(server.attempts.length).toBeLessThanOrEqual(10);
    expect(d.pending(jobId)).toBe(1);
  });

  it('a new process redelivers the outbox the previous one left, and numbers on from it', {
    timeout: 20_000,
  }, async () => {
    await server.stop();
    const first = delivery(outboxDir);
    const sent = [
      first.send(jobId, target(), { type: 'started', totalEpochs: 2 }),
      first.send(jobId, target(), checkpoint(1)),
      first.send(jobId, target(), { type: 'cancelled', artifacts: [] }),
    ];
    await waitForFile(outboxDir, true);
    await first.close(); // the process stops with the backend still away

    await server.start();
    const second = delivery(outboxDir);
    open.push(second);
    expect(await second.recover()).toBe(3);
    await server.waitFor('the redelivered events', () => server.events(jobId).length === 3);
    expect(server.events(jobId)).toEqual(sent);
    expect(await second.drain(5000)).toBe(true);
    await waitForFile(outboxDir, false);
  });
});
