import { InputError } from '@vtp/service-kit';
import type { Knex } from 'knex';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Keyset pagination cursor over (created_at, id): stable under inserts, unlike offsets. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || typeof id !== 'string' || !UUID.test(id))
      throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new InputError('Invalid cursor', [
      { path: 'query.cursor', message: 'not a cursor returned by this API' },
    ]);
  }
}

/**
 * One page of a user's rows, newest first, after `cursor`. The row comparison lets PostgreSQL read the page
 * straight off a (…, created_at, id) index.
 */
export async function keysetPage<Row extends { created_at: Date; id: string }>(
  query: Knex.QueryBuilder,
  limit: number,
  cursor: string | undefined,
): Promise<{ rows: Row[]; nextCursor: string | null }> {
  const after = cursor ? decodeCursor(cursor) : undefined;
  if (after) query.andWhereRaw('(created_at, id) < (?, ?)', [after.createdAt, after.id]);
  const rows = (await query
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit + 1)) as Row[];
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return { rows: rows.slice(0, limit), nextCursor: last ? encodeCursor(last.created_at, last.id) : null };
}
