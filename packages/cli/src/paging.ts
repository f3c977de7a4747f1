/** Reads pages (`items`, `nextCursor`) until `limit` items or the end. */
export async function collectPages<T>(
  page: (cursor: string | undefined, limit: number) => Promise<{ items: T[]; nextCursor: string | null }>,
  limit: number,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor, Math.min(200, limit - items.length));
    items.push(...next.items);
    cursor = next.nextCursor ?? undefined;
  } while (cursor && items.length < limit);
  return items.slice(0, limit);
}
