import { describe, expect, it } from 'vitest';
import { ProgressWatch } from './progressWatch.ts';

describe('ProgressWatch', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('calls a phase stalled only after its limit passes without progress', () => {
    const c = clock();
    const watch = new ProgressWatch({ floorMs: 60_000 }, c.now);
    c.advance(59_000);
    expect(watch.stalled()).toBeUndefined();
    watch.progressed(); // bytes came in
    c.advance(59_000);
    expect(watch.stalled()).toBeUndefined();
    c.advance(2_000);
    expect(watch.stalled()).toEqual({ phase: 'downloading_dataset', silentMs: 61_000, limitMs: 60_000 });
  });

  it('gives epochs five times the longest one so far, never less than the floor', () => {
    const c = clock();
    const watch = new ProgressWatch({ floorMs: 60_000 }, c.now);
    watch.enter('training');
    c.advance(30_000);
    watch.epochEnded();
    expect(watch.limitMs()).toBe(150_000);
    c.advance(100_000);
    watch.epochEnded();
    expect(watch.limitMs()).toBe(500_000);
    c.advance(499_000);
    expect(watch.stalled()).toBeUndefined();
    c.advance(2_000);
    expect(watch.stalled()?.phase).toBe('training');
    watch.enter('uploading_artifacts');
    expect(watch.limitMs()).toBe(60_000);
  });
});
