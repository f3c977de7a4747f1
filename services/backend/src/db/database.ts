import { UnavailableError } from '@vtp/service-kit';
import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.ts';

export type Db = Knex;

/** How long a request waits for a pooled connection (or its turn at one) before the database counts as away. */
export const POOL_WAIT_MS = 10_000;

/** What a request hears while the database is down, restarting or hung: 503, try again shortly. */
export function databaseUnavailable(): UnavailableError {
  return new UnavailableError('The database is unavailable; try again shortly', 5, 'database_unavailable');
}

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
    acquireConnectionTimeout: POOL_WAIT_MS,
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

/** Applies pending migrations; returns the names applied. Concurrent callers are serialised by knex's lock. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}

/**
 * Runs one of the hottest statements as a named prepared statement on a pooled connection: PostgreSQL parses
 * and plans it once per connection instead of on every call (for a many-CTE statement, as much as running it).
 * `name` stands for exactly one `text`, with `$1`-style parameters.
 */
export async function queryPrepared<Row>(
  db: Db,
  name: string,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const connection = (await db.client.acquireConnection()) as {
    query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
  };
  try {
    return (await connection.query({ name, text, values })).rows;
  } finally {
    await db.client.releaseConnection(connection);
  }
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
