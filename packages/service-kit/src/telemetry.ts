import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { TraceContext } from '@vtp/shared-schemas';

export type { Span };

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

/** What every span of a job's trace says about it, so a trace search by job, framework or model finds it. */
export interface JobSpanSubject {
  jobId: string;
  attempt?: number | undefined;
  framework?: string | undefined;
  model?: string | undefined;
}

export function jobSpanAttributes(job: JobSpanSubject): Attributes {
  return {
    'vtp.job.id': job.jobId,
    ...(job.attempt !== undefined ? { 'vtp.job.attempt': job.attempt } : {}),
    ...(job.framework ? { 'vtp.framework': job.framework } : {}),
    ...(job.model ? { 'vtp.model': job.model } : {}),
  };
}

/** Adds attributes to the active span (the request's server span inside a route), if there is one. */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** A span started now and ended by `end`, for work whose steps run both in and out of its context. */
export interface OpenSpan {
  readonly span: Span;
  /** Runs `fn` with this span active. */
  within<T>(fn: () => T): T;
  /** Runs `fn` in a child span of this one, whatever span is active where it is called. */
  child<T>(name: string, fn: (span: Span) => Promise<T>, attributes?: Attributes): Promise<T>;
  /** Marks the work as failed, saying why. */
  fail(message: string): void;
  end(): void;
}

export function openSpan(
  name: string,
  parent: TraceContext | undefined,
  attributes: Attributes = {},
): OpenSpan {
  const parentContext = parent ? propagation.extract(context.active(), parent) : context.active();
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parentContext);
  const spanContext = trace.setSpan(parentContext, span);
  return {
    span,
    within: (fn) => context.with(spanContext, fn),
    child: (childName, fn, childAttributes) =>
      context.with(spanContext, () => inSpan(childName, undefined, fn, childAttributes)),
    fail: (message) => span.setStatus({ code: SpanStatusCode.ERROR, message }),
    end: () => span.end(),
  };
}

/**
 * Runs `fn` inside a new span: a child of `parent` when given (a hand-over continuing the request that created
 * the job), else of the active span. A throw marks the span as failed.
 */
export async function inSpan<T>(
  name: string,
  parent: TraceContext | undefined,
  fn: (span: Span) => Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  const open = openSpan(name, parent, attributes);
  try {
    return await open.within(() => fn(open.span));
  } catch (err) {
    open.fail(err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    open.end();
  }
}
