import type { ProblemIssue, Resources } from '@vtp/shared-schemas';

/** The most one job may ask for: past it, a job could never be scheduled, or would crowd out everyone else. */
export interface ResourceLimits {
  /** Kubernetes quantities, e.g. "32" cores and "256Gi". */
  cpu: string;
  memory: string;
  gpu: number;
}

const FACTORS: Record<string, number> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** A Kubernetes quantity as a number of cores or bytes (the shared schema has already checked its form). */
export function quantity(value: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(value);
  if (!match?.[1]) throw new Error(`not a Kubernetes quantity: ${value}`);
  return Number(match[1]) * (FACTORS[match[2] ?? ''] ?? 1);
}

/** Each requested resource above its limit, named by its field. */
export function resourceIssues(resources: Resources | undefined, limits: ResourceLimits): ProblemIssue[] {
  const issues: ProblemIssue[] = [];
  if (resources?.cpu && quantity(resources.cpu) > quantity(limits.cpu))
    issues.push({ path: 'body.resources.cpu', message: `at most ${limits.cpu} on this platform` });
  if (resources?.memory && quantity(resources.memory) > quantity(limits.memory))
    issues.push({ path: 'body.resources.memory', message: `at most ${limits.memory} on this platform` });
  if (resources?.gpu !== undefined && resources.gpu > limits.gpu)
    issues.push({ path: 'body.resources.gpu', message: `at most ${limits.gpu} on this platform` });
  return issues;
}
