import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@vtp/service-kit';
import type { RequestHandler } from 'express';

/** Bearer TRAINER_TOKEN on every request, compared in constant time (digests, so lengths never leak either). */
export function requireTrainerToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      next(new UnauthorizedError('Send the trainer token as a Bearer token', 'invalid_trainer_token'));
      return;
    }
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
