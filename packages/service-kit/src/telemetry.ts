import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { TraceContext } from '@vtp/shared-schemas';
import type { RequestHandler } from 'express';

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing for this process (call once, from the entry point). Spans are exported over
 * OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; without it they are still created, so trace context still
 * flows across services (backend -> trainer -> callbacks), just not exported.
 */
export function startTelemetry(serviceName: string, spanProcessors?: SpanProcessor[]): Telemetry {
  const processors =
    spanProcessors ??
    (process.env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })]
      : [new NoopSpanProcessor()]);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: processors,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

const tracer = () => trace.getTracer('vtp');

/** One SERVER span per request, continuing the caller's trace from its `traceparent` header. */
export const tracingMiddleware: RequestHandler = (req, res, next) => {
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer().startSpan(
    req.method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } },
    parent,
  );
  res.on('finish', () => {
    const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : undefined;
    if (route) span.updateName(`${req.method} ${route}`).setAttribute('http.route', route);
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
};

/** The active trace as W3C trace context, to hand to another service; undefined when tracing is off. */
export function currentTraceContext(): TraceContext | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  return {
    traceparent: carrier.traceparent,
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** Headers that carry the active trace to an outgoing HTTP request. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `fn` inside a new span that continues `parent` (e.g. a training continuing the request that made it). */
export async function inSpan<T>(
  name: string,
  parent: TraceContext | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const parentContext = parent ? propagation.extract(context.active(), parent) : context.active();
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL }, parentContext);
  try {
    return await context.with(trace.setSpan(parentContext, span), fn);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
