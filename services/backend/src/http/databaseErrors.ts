import { BadRequestError } from '@vtp/service-kit';
import type { ErrorRequestHandler } from 'express';
import { databaseUnavailable } from '../db/database.ts';

/** The database cannot be reached or answered too late: connection failures, shutdowns, timeouts. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  '57014',
  '57P01',
  '57P02',
  '57P03',
]);

function unavailable(err: { code?: unknown; name?: unknown; message?: unknown }): boolean {
  if (err.name === 'KnexTimeoutError') return true; // no pool connection within acquireTimeoutMillis
  if (typeof err.code === 'string' && (UNAVAILABLE_CODES.has(err.code) || err.code.startsWith('08')))
    return true;
  // node-postgres' own words for a connection that died or never answered
  return (
    typeof err.message === 'string' &&
    /(Connection terminated|connection timeout|timeout expired|timeout exceeded when trying to connect|Query read timeout)/i.test(
      err.message,
    )
  );
}

/**
 * Database failures that are not the server's bug. A data exception (SQLSTATE class 22: a value out of range,
 * an unstorable character) comes from the request's values: 400, never a 500 (the shared schemas bound every
 * value to what the database stores; this is the net under them). A database that is down, restarting or
 * hung: 503 with Retry-After, never a 500 or a request that hangs, and never the database's address.
 */
export const databaseErrors: ErrorRequestHandler = (err, _req, _res, next) => {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) {
    next(
      new BadRequestError(
        `A value in the request cannot be stored: ${(err as Error).message}`,
        'unstorable_value',
      ),
    );
    return;
  }
  if (unavailable(err as object)) {
    next(databaseUnavailable());
    return;
  }
  next(err);
};
