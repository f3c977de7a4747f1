import { Id, Text, Timestamp } from './common.ts';
import { Framework } from './frameworks.ts';
import { z } from './zod.ts';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const WeightsFormat = z
  .enum(['pytorch', 'safetensors'])
  .openapi('WeightsFormat', { description: "Read from the file's content, not its name" });
export type WeightsFormat = z.infer<typeof WeightsFormat>;

export const WeightsCreateFields = z
  .object({
    name: Text.trim().min(1).max(200),
    framework: Framework,
    model: z.string().min(1).max(100).openapi({ description: 'The catalog model the weights are for' }),
  })
  .openapi('WeightsCreateFields');
export type WeightsCreateFields = z.infer<typeof WeightsCreateFields>;

/** What checking a weights file found in it (the trainer's check_weights.py). */
export const WeightsSummary = z
  .object({
    format: WeightsFormat,
    numClasses: z.number().int().positive().nullable().openapi({
      description: "Classes of the weights' own head (a training on another class count rebuilds it)",
    }),
    classNames: z.array(z.string().max(1000)).max(100_000).nullable(),
    tensors: z.number().int().nonnegative(),
  })
  .openapi('WeightsSummary');
export type WeightsSummary = z.infer<typeof WeightsSummary>;

export const Weights = z
  .object({
    id: Id,
    name: z.string(),
    framework: Framework,
    model: z.string(),
    fileName: z.string().openapi({ description: 'The uploaded file name, as sent' }),
    bytes: z.number().int().nonnegative(),
    sha256: Sha256,
    ...WeightsSummary.shape,
    createdAt: Timestamp,
  })
  .openapi('Weights');
export type Weights = z.infer<typeof Weights>;

export const WeightsIdParams = z.object({ id: Id });

/** Backend -> trainer: check one uploaded file, read through a presigned URL that reaches it alone. */
export const WeightsCheckRequestBody = z
  .object({
    framework: Framework,
    model: z.string().min(1).max(100),
    url: z.url().openapi({ description: 'Presigned GET URL of the uploaded file' }),
    bytes: z.number().int().nonnegative(),
    sha256: Sha256,
  })
  .openapi('WeightsCheckRequestBody');
export type WeightsCheckRequestBody = z.infer<typeof WeightsCheckRequestBody>;

export const WeightsCheckResponseBody = z
  .discriminatedUnion('valid', [
    z.object({ valid: z.literal(true), summary: WeightsSummary }),
    z.object({
      valid: z.literal(false),
      problem: z.string().max(4000).openapi({ description: 'What is wrong with the file, for the user' }),
    }),
  ])
  .openapi('WeightsCheckResponseBody');
export type WeightsCheckResponseBody = z.infer<typeof WeightsCheckResponseBody>;
