import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.ts';

export type Db = Knex;

/**
 * A database blip must fail requests fast (503) rather than hang them: connecting, waiting for a pooled
 * connection and each statement all have a limit.
 */
export function createDatabase(url: string): Db {
  return knex({
    client: 'pg',
    connection: {
      connectionString: url,
      connectionTimeoutMillis: 5_000,
      statement_timeout: 30_000,
      query_timeout: 35_000,
    },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 10_000,
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

/** Applies pending migrations; returns the names applied. Concurrent callers are serialised by knex's lock. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}

/**
 * Runs `fn` once what `trx` wrote is committed (at once outside a transaction), never after a rollback: what
 * observes a change (a metric) must not count one that did not happen.
 */
export function afterCommit(trx: Knex, fn: () => void): void {
  if (!trx.isTransaction) {
    fn();
    return;
  }
  let outer = trx as Knex.Transaction & { parentTransaction?: Knex.Transaction };
  while (outer.parentTransaction) outer = outer.parentTransaction;
  outer.executionPromise.then(fn, () => undefined);
}
