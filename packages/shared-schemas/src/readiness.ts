import { z } from './zod.ts';

export const ReadinessCheck = z
  .object({ ok: z.boolean(), detail: z.string().optional() })
  .openapi('ReadinessCheck');

export const BackendReadiness = z
  .object({
    ready: z.boolean(),
    checks: z.object({ database: ReadinessCheck, storage: ReadinessCheck }),
  })
  .openapi('BackendReadiness');
export type BackendReadiness = z.infer<typeof BackendReadiness>;
