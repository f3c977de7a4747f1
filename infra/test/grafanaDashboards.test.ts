// The Grafana dashboards: the committed JSON is what infra/observability/grafana/dashboards.ts generates (run
// `npm run observability --workspace @vtp/infra` after changing it), and every panel queries the provisioned
// Prometheus. The queries themselves run against a real Prometheus in services/backend/test/e2e/prometheus.test.ts.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dashboards, PROMETHEUS } from '../observability/grafana/dashboards.ts';
import { readRepoFile, repoPath } from './support/repo.ts';

const DIR = 'infra/observability/grafana/dashboards';

interface Panel {
  type: string;
  title: string;
  datasource?: unknown;
  targets?: { expr?: string; refId?: string }[];
}

describe('Grafana dashboards', () => {
  const generated = dashboards();

  it('the committed JSON is what dashboards.ts generates (no drift, nothing extra)', () => {
    expect(readdirSync(repoPath(DIR)).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, dashboard] of Object.entries(generated))
      expect(JSON.parse(readRepoFile(`${DIR}/${file}`)), file).toEqual(JSON.parse(JSON.stringify(dashboard)));
  });

  it('platform, job journey and trainers: unique uids, every panel a Prometheus query with its own refId', () => {
    const uids = Object.values(generated).map((d) => d.uid);
    expect(uids).toEqual(['vtp-platform', 'vtp-job-journey', 'vtp-trainers']);
    for (const dashboard of Object.values(generated)) {
      const panels = (dashboard.panels ?? []) as Panel[];
      const charts = panels.filter((p) => p.type !== 'row');
      expect(charts.length, dashboard.uid).toBeGreaterThanOrEqual(6);
      for (const panel of charts) {
        expect(panel.datasource, panel.title).toEqual(PROMETHEUS);
        expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
        const refIds = panel.targets?.map((t) => t.refId);
        expect(new Set(refIds).size, panel.title).toBe(refIds?.length);
        for (const t of panel.targets ?? []) expect(t.expr, panel.title).toMatch(/vtp_|up\{/);
      }
    }
  });
});
