import { describe, expect, it } from 'vitest';
import { assertTransitions, isFinished, PLACED, UNFINISHED } from './jobLifecycle.ts';

describe('job state machine', () => {
  it('lets a job move forward, and back to the queue only from a hand-over', () => {
    expect(() => assertTransitions(['queued'], 'dispatching')).not.toThrow();
    expect(() => assertTransitions(['dispatching'], 'queued')).not.toThrow();
    expect(() => assertTransitions(UNFINISHED, 'failed')).not.toThrow();
    expect(() => assertTransitions(['running'], 'queued')).toThrow(/from running to queued/);
  });

  it('never moves a finished job', () => {
    for (const finished of ['succeeded', 'failed', 'cancelled'] as const) {
      expect(isFinished(finished)).toBe(true);
      expect(() => assertTransitions([finished], 'running')).toThrow();
    }
    expect(PLACED.some(isFinished)).toBe(false);
  });
});
