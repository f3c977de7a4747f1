import { Id, Text, Timestamp } from './common.ts';
import { DatasetFormat } from './frameworks.ts';
import { z } from './zod.ts';

export const DatasetCreateFields = z
  .object({
    name: Text.trim().min(1).max(200),
    format: DatasetFormat,
  })
  .openapi('DatasetCreateFields');
export type DatasetCreateFields = z.infer<typeof DatasetCreateFields>;

export const ImageCounts = z
  .object({
    train: z.number().int().nonnegative(),
    val: z.number().int().nonnegative(),
    test: z.number().int().nonnegative(),
  })
  .openapi('ImageCounts');
export type ImageCounts = z.infer<typeof ImageCounts>;

export const Dataset = z
  .object({
    id: Id,
    name: z.string(),
    format: DatasetFormat,
    classNames: z.array(z.string()),
    imageCounts: ImageCounts,
    bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: Timestamp,
  })
  .openapi('Dataset');
export type Dataset = z.infer<typeof Dataset>;

export const DatasetIdParams = z.object({ id: Id });
