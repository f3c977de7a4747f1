import { InputError } from '@vtp/service-kit';

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
