import { describe, expect, it } from 'vitest';
import { createRandom } from './random.ts';

const draw = (seed: number, n: number) => Array.from({ length: n }, createRandom(seed).next);

describe('createRandom', () => {
  it('repeats its sequence for a seed and changes it for another seed', () => {
    expect(draw(42, 50)).toEqual(draw(42, 50));
    expect(draw(43, 50)).not.toEqual(draw(42, 50));
  });

  it('yields floats in [0, 1) and integers covering both inclusive ends', () => {
    const random = createRandom(7);
    const floats = Array.from({ length: 1000 }, random.next);
    expect(floats.every((f) => f >= 0 && f < 1)).toBe(true);
    const ints = new Set(Array.from({ length: 1000 }, () => random.int(-2, 2)));
    expect([...ints].sort()).toEqual([-1, -2, 0, 1, 2]);
  });
});
