import { isSpanContextValid, type Span, trace } from '@opentelemetry/api';
import { pino } from 'pino';

export type Logger = pino.Logger;

/** Paths never logged as they are: credentials of any kind. */
const redact = [
  'req.headers.authorization',
  '*.authorization',
  '*.token',
  '*.key',
  '*.secret',
  '*.password',
  '*.callback.token',
  '*.secretAccessKey',
];

/** Marks a logger whose bindings already name its span, so the mixin does not write the fields twice. */
const SPAN_BOUND = Symbol('vtp.logger.spanBound');

/**
 * JSON lines (pino's own format) with `trace_id`/`span_id` of the active span, so a log store can jump from a
 * trace to its lines and back.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options = { name, level, redact: { paths: redact, censor: '[redacted]' }, mixin: activeSpanFields };
  return destination ? pino(options, destination) : pino(options);
}

function activeSpanFields(_line: object, _level: number, logger: Logger): Record<string, string> {
  if ((logger as Logger & { [SPAN_BOUND]?: true })[SPAN_BOUND]) return {};
  const span = trace.getActiveSpan();
  return span ? spanFields(span) : {};
}

function spanFields(span: Span): Record<string, string> {
  const context = span.spanContext();
  return isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
}

/**
 * A child logger whose every line names `span`, wherever it is called from: work that outlives the call that
 * started it (runner output, timers, socket events) has no active span of its own.
 */
export function loggerForSpan(logger: Logger, span: Span, bindings: Record<string, unknown> = {}): Logger {
  const child = logger.child({ ...bindings, ...spanFields(span) }) as Logger & { [SPAN_BOUND]?: true };
  child[SPAN_BOUND] = true;
  return child;
}
