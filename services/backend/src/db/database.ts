import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.ts';

export type Db = Knex;

export function createDatabase(url: string): Db {
  return knex({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: 10 },
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

/** Applies pending migrations; returns the names applied. Concurrent callers are serialised by knex's lock. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
