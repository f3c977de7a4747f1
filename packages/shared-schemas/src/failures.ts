import { Text } from './common.ts';
import { z } from './zod.ts';

/** Why a job failed: a stable code clients can branch on, plus a human message. */
export const FailureCode = z
  .enum([
    'invalid_dataset',
    'invalid_configuration',
    'framework_error',
    'out_of_memory',
    'killed',
    'time_limit_exceeded',
    'lost',
    'stalled',
    'trainer_unavailable',
    'dispatch_timeout',
    'internal_error',
  ])
  .openapi('FailureCode');
export type FailureCode = z.infer<typeof FailureCode>;

export const JobError = z
  .object({
    code: FailureCode,
    message: Text.max(4000),
  })
  .openapi('JobError');
export type JobError = z.infer<typeof JobError>;
