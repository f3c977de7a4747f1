/** Writes the dashboards of dashboards.ts to dashboards/*.json (`npm run dashboards --workspace @vtp/infra`). */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dashboards } from './dashboards.ts';

const out = join(import.meta.dirname, 'dashboards');
await mkdir(out, { recursive: true });
const files = Object.entries(dashboards()).map(([file, dashboard]) => ({ path: join(out, file), dashboard }));
for (const { path, dashboard } of files) await writeFile(path, `${JSON.stringify(dashboard, null, 2)}\n`);
// Laid out as the repository's formatter wants them, so `npm run lint` stays clean (the drift test compares
// content, not layout).
execFileSync('npx', ['biome', 'format', '--write', ...files.map((f) => f.path)], { stdio: 'inherit' });
