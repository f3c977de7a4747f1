import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { generateSecret } from '../auth/secrets.ts';

/** The admin key generated for embedded mode: created once, kept (owner-only) under DATA_DIR across restarts. */
export async function loadOrCreateAdminKey(dataDir: string): Promise<{ key: string; created: boolean }> {
  const file = resolve(dataDir, 'admin-api-key');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return { key: existing.trim(), created: false };
  const key = generateSecret('vtp');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return { key, created: true };
}
