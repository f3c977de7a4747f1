import type { Response } from 'express';

/** Who is calling: set by the API-key middleware, read by every route behind it. */
export interface Principal {
  userId: string;
  userName: string;
  isAdmin: boolean;
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf() used on a route without API-key auth');
  return principal;
}
