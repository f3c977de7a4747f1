import { UnauthorizedError } from '@vtp/service-kit';
import { secretMatchesHash } from '../auth/secrets.ts';
import type { JobRow } from './jobStore.ts';

/**
 * The job whose trainer holds `token`. Same answer for an unknown job, a wrong token and a job that ended (its
 * tokens are revoked): a token must not reveal which jobs exist.
 */
export function checkCallbackToken(job: JobRow | undefined, token: string): JobRow {
  if (!job?.callback_token_hashes.some((hash) => secretMatchesHash(token, hash)))
    throw new UnauthorizedError('Invalid callback token for this job', 'invalid_callback_token');
  return job;
}
