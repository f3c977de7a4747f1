import { ForbiddenError, UnauthorizedError } from '@vtp/service-kit';
import type { RequestHandler } from 'express';
import type { UserStore } from './userStore.ts';

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function requireApiKey(users: UserStore): RequestHandler {
  return async (req, res, next) => {
    const key = bearerToken(req.get('authorization'));
    if (!key)
      throw new UnauthorizedError('Send your API key as `Authorization: Bearer <key>`', 'missing_api_key');
    const principal = await users.findByKey(key);
    if (!principal) throw new UnauthorizedError('Unknown API key', 'invalid_api_key');
    res.locals.principal = principal;
    next();
  };
}

export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (!res.locals.principal?.isAdmin)
    throw new ForbiddenError('Only the admin key may do this', 'admin_only');
  next();
};
