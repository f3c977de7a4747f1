import { describe, expect, it } from 'vitest';
import { isRetried } from './retryPolicy.ts';

const job = { attempt: 1, max_retries: 2, retry_on_out_of_memory: false };

describe('retry policy', () => {
  it('retries infrastructure failures while retries are left', () => {
    for (const code of ['lost', 'stalled', 'trainer_unavailable', 'killed', 'dispatch_timeout'] as const) {
      expect(isRetried(job, { code, message: '' })).toBe(true);
    }
    expect(isRetried({ ...job, attempt: 2 }, { code: 'lost', message: '' })).toBe(true);
    expect(isRetried({ ...job, attempt: 3 }, { code: 'lost', message: '' })).toBe(false);
    expect(isRetried({ ...job, max_retries: 0 }, { code: 'lost', message: '' })).toBe(false);
  });

  it("never retries the user's errors, and out of memory only when asked", () => {
    for (const code of [
      'invalid_dataset',
      'invalid_configuration',
      'framework_error',
      'time_limit_exceeded',
    ] as const) {
      expect(isRetried(job, { code, message: '' })).toBe(false);
    }
    expect(isRetried(job, { code: 'out_of_memory', message: '' })).toBe(false);
    expect(isRetried({ ...job, retry_on_out_of_memory: true }, { code: 'out_of_memory', message: '' })).toBe(
      true,
    );
  });
});
