import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { DatasetEntry } from './dataset.ts';

/** Writes each entry under `dir`, creating folders as needed; returns the total bytes written. */
export async function writeDirectory(entries: readonly DatasetEntry[], dir: string): Promise<number> {
  const root = resolve(dir);
  let bytes = 0;
  for (const entry of entries) {
    const target = resolve(root, entry.path);
    const inside = relative(root, target);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new RangeError(`writeDirectory: entry path ${JSON.stringify(entry.path)} leaves ${root}`);
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, entry.data);
    bytes += entry.data.length;
  }
  return bytes;
}
