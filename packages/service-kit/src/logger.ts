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

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: { paths: redact, censor: '[redacted]' } });
}
