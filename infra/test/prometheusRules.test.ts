// The Prometheus rules (infra/observability/prometheus/rules.yaml) checked by the real promtool: valid, their
// unit tests pass, and every rule has one (an alert a test sees fire; a record a test or a tested alert reads).
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusRule } from '../observability/prometheus/prometheusRule.ts';
import { readRepoFile, repoPath } from './support/repo.ts';
import { prometheusTool, run } from './support/tools.ts';

const DIR = 'infra/observability/prometheus';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(readRepoFile(`${DIR}/rules.yaml`)) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (group) => group.rules,
);
const tests = (
  parse(readRepoFile(`${DIR}/rules.test.yaml`)) as {
    tests: {
      alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
      promql_expr_test?: { expr: string }[];
    }[];
  }
).tests;

describe('Prometheus rules', () => {
  it('pass `promtool check rules` (syntax, PromQL, templates)', async () => {
    const { stdout } = await run(prometheusTool('promtool'), ['check', 'rules', repoPath(DIR, 'rules.yaml')]);
    expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('pass their unit tests with `promtool test rules`', async () => {
    const result = await run(prometheusTool('promtool'), ['test', 'rules', 'rules.test.yaml'], {
      cwd: repoPath(DIR),
    }).catch((err: { stdout?: string; stderr?: string }) => err);
    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
    expect(`${result.stdout}${result.stderr}`).not.toContain('FAILED');
  });

  it('every alert has a unit test that sees it fire, with a severity and a summary', () => {
    const firing = new Set(
      tests
        .flatMap((t) => t.alert_rule_test ?? [])
        .flatMap((a) => (a.exp_alerts.length ? [a.alertname] : [])),
    );
    const alerts = rules.filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(7);
    for (const alert of alerts) {
      expect(firing, alert.alert).toContain(alert.alert);
      expect(['warning', 'critical'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toEqual(expect.any(String));
    }
  });

  it('every recording rule is evaluated by a unit test, directly or through a tested alert', () => {
    const tested = [
      ...tests.flatMap((t) => t.promql_expr_test ?? []).map((e) => e.expr),
      ...rules.filter((r) => r.alert).map((r) => r.expr),
    ].join('\n');
    for (const { record } of rules.filter((r) => r.record)) expect(tested, record).toContain(record);
  });

  it('ships to production as a PrometheusRule generated from rules.yaml (npm run observability; no drift)', () => {
    const rulesYaml = readRepoFile(`${DIR}/rules.yaml`);
    expect(readRepoFile('infra/k8s/components/observability/prometheusrule.yaml')).toBe(
      prometheusRule(rulesYaml),
    );
    expect(parse(prometheusRule(rulesYaml)).spec.groups).toEqual(parse(rulesYaml).groups);
  });

  it('follows the naming conventions: level:metric:operations records, Vtp alerts, no job id anywhere', () => {
    for (const rule of rules) {
      if (rule.record) expect(rule.record).toMatch(/^[a-z_]*:vtp_[a-z0-9_]+:[a-z0-9_]+$/);
      if (rule.alert) expect(rule.alert).toMatch(/^Vtp[A-Z][A-Za-z]+$/);
      expect(rule.expr).not.toMatch(/job_id|jobId/);
    }
  });
});
