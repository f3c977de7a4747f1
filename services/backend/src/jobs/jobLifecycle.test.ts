import { describe, expect, it } from 'vitest';
import { assertTransitions, isFinished, PLACED, UNFINISHED } from './jobLifecycle.ts';

describe('job state machine', () => {
  it('lets a job move forward, and back to the queue for another hand-over or attempt', () => {
    expect(() => assertTransitions(['queued'], 'dispatching')).not.toThrow();
    expect(() => assertTransitions(UNFINISHED, 'queued')).not.toThrow();
    expect(() => assertTransitions(UNFINISHED, 'failed')).not.toThrow();
    expect(() => assertTransitions(['running'], 'dispatching')).toThrow(/from running to dispatching/);
  });

  it('moves a finished job only back to the queue (resume), and a succeeded one never', () => {
    for (const finished of ['succeeded', 'failed', 'cancelled'] as const) {
      expect(isFinished(finished)).toBe(true);
      expect(() => assertTransitions([finished], 'running')).toThrow();
    }
    expect(() => assertTransitions(['failed', 'cancelled'], 'queued')).not.toThrow();
    expect(() => assertTransitions(['succeeded'], 'queued')).toThrow(/from succeeded to queued/);
    expect(PLACED.some(isFinished)).toBe(false);
  });
});
