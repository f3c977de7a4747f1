import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from './http.ts';
import {
  currentTraceContext,
  startTelemetry,
  type Telemetry,
  traceHeaders,
  tracingMiddleware,
} from './telemetry.ts';

describe('tracing across services', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let downstream: RunningServer;
  let upstream: RunningServer;
  let seenByDownstream: string | undefined;

  beforeAll(async () => {
    telemetry = startTelemetry('test', [new SimpleSpanProcessor({ exporter })]);
    const down = express();
    down.use(tracingMiddleware);
    down.get('/work', (_req, res) => {
      seenByDownstream = currentTraceContext()?.traceparent;
      res.json({ ok: true });
    });
    downstream = await listen(down, 0, '127.0.0.1');
    const up = express();
    up.use(tracingMiddleware);
    up.get('/start', async (_req, res) => {
      await fetch(`${downstream.url}/work`, { headers: traceHeaders() });
      res.json({ ok: true });
    });
    upstream = await listen(up, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await upstream.close();
    await downstream.close();
    await telemetry.shutdown();
  });

  it('continues the caller trace in the called service, with one server span per request', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${upstream.url}/start`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['GET /start', 'GET /work']);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    const start = spans.find((s) => s.name === 'GET /start');
    const work = spans.find((s) => s.name === 'GET /work');
    expect(work?.parentSpanContext?.spanId).toBe(start?.spanContext().spanId);
    expect(seenByDownstream).toContain(traceId);
  });
});
