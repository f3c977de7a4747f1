import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, loggerForSpan } from './logger.ts';
import { inSpan, openSpan, startTelemetry, type Telemetry } from './telemetry.ts';

describe('log lines and traces', () => {
  let telemetry: Telemetry;
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('test', 'info', {
    write: (line: string) => {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });

  beforeAll(() => {
    telemetry = startTelemetry('test', [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })]);
  });
  afterAll(() => telemetry.shutdown());

  it('name the active span, and nothing outside one', async () => {
    lines.length = 0;
    logger.info('outside');
    const ids = await inSpan('work', undefined, async (span) => {
      logger.info({ job_id: 'j1' }, 'inside');
      return span.spanContext();
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({
      msg: 'inside',
      job_id: 'j1',
      trace_id: ids.traceId,
      span_id: ids.spanId,
    });
  });

  it('keep naming the span a logger was bound to, once, wherever it is called from', async () => {
    lines.length = 0;
    raw.length = 0;
    const training = openSpan('training', undefined);
    const bound = loggerForSpan(logger, training.span, { job_id: 'j2' });
    bound.info('from a timer, out of the span');
    await inSpan('another', undefined, async () => bound.info('inside another span'));
    training.end();
    const { traceId, spanId } = training.span.spanContext();
    expect(lines).toHaveLength(2);
    for (const line of lines)
      expect(line).toMatchObject({ job_id: 'j2', trace_id: traceId, span_id: spanId });
    // pino writes bindings and mixin fields side by side: a bound logger must not get the keys twice.
    for (const line of raw) expect(line.match(/"trace_id"/g)).toHaveLength(1);
  });

  it('still redact credentials', () => {
    lines.length = 0;
    logger.info({ callback: { token: 'secret-token' } }, 'with a token');
    expect(JSON.stringify(lines[0])).not.toContain('secret-token');
  });
});
