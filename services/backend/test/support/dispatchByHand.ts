import knex from 'knex';
import { generateSecret, hashSecret } from '../../src/auth/secrets.ts';

/** Moves a job to `dispatching` with a fresh callback token, as the dispatcher does, and returns the token. */
export async function dispatchByHand(databaseUrl: string, jobId: string): Promise<string> {
  const token = generateSecret('vtpcb');
  const db = knex({ client: 'pg', connection: databaseUrl });
  try {
    const updated = await db('jobs')
      .where({ id: jobId, status: 'queued' })
      .update({
        status: 'dispatching',
        callback_token_hashes: db.raw('array_append(callback_token_hashes, ?)', [hashSecret(token)]),
        dispatched_at: db.fn.now(),
      });
    if (updated !== 1) throw new Error(`job ${jobId} was not queued`);
  } finally {
    await db.destroy();
  }
  return token;
}
