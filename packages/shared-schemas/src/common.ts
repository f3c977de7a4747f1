import { z } from './zod.ts';

/**
 * Bounds of what PostgreSQL stores, so a value the schema accepts can always be stored: `integer` columns,
 * text without NUL characters, and timestamps in a sane range (PostgreSQL has no year 0).
 */
export const INT32_MAX = 2_147_483_647;
export const Int32 = z.number().int().max(INT32_MAX);
/** Text as PostgreSQL stores it: anything but the NUL character. */
export const Text = z.string().refine((value) => !value.includes('\0'), 'must not contain a NUL character');
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10_000, 0, 1);

export const Id = z.uuid().openapi({ example: '0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e' });
export type Id = z.infer<typeof Id>;

export const Timestamp = z.iso
  .datetime({ offset: true })
  .refine((value) => {
    const ms = Date.parse(value);
    return ms >= EARLIEST && ms < LATEST;
  }, 'must lie between the years 1970 and 9999')
  .openapi({ example: '2026-11-23T10:00:00.000Z' });

/** One offending field or file of a rejected request. */
export const ProblemIssue = z
  .object({
    path: z
      .string()
      .openapi({ description: 'Field path (`body.hyperparameters.epochs`) or file inside an upload' }),
    message: z.string(),
  })
  .openapi('ProblemIssue');
export type ProblemIssue = z.infer<typeof ProblemIssue>;

/** RFC 9457 problem details: the one error body of every service. */
export const Problem = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z
      .string()
      .openapi({ description: 'Stable machine-readable error code', example: 'validation_failed' }),
    issues: z.array(ProblemIssue).optional(),
  })
  .openapi('Problem');
export type Problem = z.infer<typeof Problem>;

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'Opaque cursor from a previous page' }),
});
export type PageQuery = z.infer<typeof PageQuery>;

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .openapi({ description: 'Pass as `cursor` for the next page; null at the end' }),
    })
    .openapi(name);
}

/**
 * An upload's optional `size` form field: the file's length in bytes, sent before the file. With it the server
 * streams the file to storage in one request instead of buffering parts; the file must then hold exactly that.
 */
export const UploadSize = z
  .string()
  .regex(/^\d{1,15}$/, 'must be the file length in bytes, a whole number')
  .transform(Number)
  .openapi({
    type: 'string',
    description:
      "The file's length in bytes, sent before `file`: the file is then streamed to storage in one request (and must hold exactly that many bytes)",
    example: '191494994',
  });

export const Health = z.object({ status: z.literal('ok') }).openapi('Health');
export type Health = z.infer<typeof Health>;
