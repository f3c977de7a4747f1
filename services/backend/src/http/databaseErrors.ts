import { BadRequestError } from '@vtp/service-kit';
import type { ErrorRequestHandler } from 'express';

/**
 * PostgreSQL's data exceptions (SQLSTATE class 22: a value out of range, an unstorable character, a malformed
 * literal) come from a request's values, not from a fault of the server: a 400 naming the cause, never a 500.
 * The shared schemas bound every value to what the database stores; this is the net under them.
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
  next(err);
};
