import { describe, expect, it } from 'vitest';
import { quantity, resourceIssues } from './resourceLimits.ts';

describe('resource limits', () => {
  it('reads Kubernetes quantities in cores and bytes', () => {
    expect(quantity('500m')).toBe(0.5);
    expect(quantity('2')).toBe(2);
    expect(quantity('4Gi')).toBe(4 * 1024 ** 3);
    expect(quantity('1.5G')).toBe(1.5e9);
  });

  it('names each request above its limit, and nothing at or below it', () => {
    const limits = { cpu: '32', memory: '256Gi', gpu: 8 };
    expect(resourceIssues({ cpu: '32000m', memory: '256Gi', gpu: 8 }, limits)).toEqual([]);
    expect(resourceIssues(undefined, limits)).toEqual([]);
    expect(resourceIssues({ cpu: '33', memory: '257Gi', gpu: 9 }, limits).map((i) => i.path)).toEqual([
      'body.resources.cpu',
      'body.resources.memory',
      'body.resources.gpu',
    ]);
  });
});
