import { parse, stringify } from 'yaml';

/**
 * The rules of rules.yaml as a prometheus-operator PrometheusRule in the platform namespace: what the
 * production component ships (the operator loads it into its Prometheus).
 */
export function prometheusRule(rulesYaml: string): string {
  const { groups } = parse(rulesYaml) as { groups: unknown[] };
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'vtp', namespace: 'platform', labels: { 'app.kubernetes.io/name': 'vtp' } },
    spec: { groups },
  };
  return `# Generated from infra/observability/prometheus/rules.yaml by \`npm run observability --workspace @vtp/infra\`:
# edit rules.yaml, not this file.
${stringify(rule, { lineWidth: 0 })}`;
}
