/**
 * Writes what is generated from the observability sources (`npm run observability --workspace @vtp/infra`):
 * the dashboards of grafana/dashboards.ts as grafana/dashboards/*.json, and prometheus/rules.yaml as the
 * PrometheusRule of the production component (infra/k8s/components/observability). Tests fail when the
 * committed files differ from what this writes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dashboards } from './grafana/dashboards.ts';
import { prometheusRule } from './prometheus/prometheusRule.ts';

const here = import.meta.dirname;
const dashboardDir = join(here, 'grafana', 'dashboards');
await mkdir(dashboardDir, { recursive: true });
const files = Object.entries(dashboards()).map(([file, dashboard]) => ({
  path: join(dashboardDir, file),
  dashboard,
}));
for (const { path, dashboard } of files) await writeFile(path, `${JSON.stringify(dashboard, null, 2)}\n`);
// Laid out as the repository's formatter wants them, so `npm run lint` stays clean (the drift test compares
// content, not layout).
execFileSync('npx', ['biome', 'format', '--write', ...files.map((f) => f.path)], { stdio: 'inherit' });

const rules = readFileSync(join(here, 'prometheus', 'rules.yaml'), 'utf8');
await writeFile(
  join(here, '..', 'k8s', 'components', 'observability', 'prometheusrule.yaml'),
  prometheusRule(rules),
);
