export { ConfigError, checkCredentialPair, loadConfig } from './config.ts';
export * from './errors.ts';
export { freePort, listen, type RunningServer } from './http.ts';
export { DEFAULT_SHUTDOWN_GRACE_MS, EXIT_SHUTDOWN_TIMED_OUT, Lifecycle } from './lifecycle.ts';
export { createLogger, type Logger, loggerForSpan } from './logger.ts';
export { createHttpMetrics, type HttpMetrics } from './metrics.ts';
export { notFoundHandler, problemBody, problemHandler } from './problem.ts';
export { isAlive } from './processes.ts';
export { type Scrape, scrapeMetrics } from './scrapeMetrics.ts';
export {
  annotateActiveSpan,
  currentTraceContext,
  inSpan,
  type JobSpanSubject,
  jobSpanAttributes,
  type OpenSpan,
  openSpan,
  type Span,
  startTelemetry,
  type Telemetry,
  traceHeaders,
  tracingMiddleware,
} from './telemetry.ts';
export { parseInput, zodIssues } from './validate.ts';
