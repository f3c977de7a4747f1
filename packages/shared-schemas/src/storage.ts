import { Timestamp } from './common.ts';
import { z } from './zod.ts';

/** S3's limit for one PUT: a presigned upload carries the whole object in one request. */
export const MAX_PRESIGNED_PUT_BYTES = 5 * 1024 ** 3;

export const S3Uri = z
  .string()
  .max(1024)
  .regex(/^s3:\/\/[^/]+\/.+/, 'an s3://bucket/key URI');

/**
 * The name of an object a trainer writes, relative to its attempt's output folder (`weights/epoch-3/best.pt`,
 * `metrics.json`): at most four plain segments, none starting with a dot, and never an attempt folder of its own.
 */
export const OutputName = z
  .string()
  .max(256)
  .regex(
    /^(?!attempts\/)[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*){0,3}$/,
    'a relative path of plain names (letters, digits, ".", "_", "-"), not starting with a dot',
  )
  .openapi({ example: 'weights/epoch-3/best.pt' });

const DownloadRequest = z.object({
  method: z.literal('GET'),
  uri: S3Uri.openapi({ description: "One of the job's inputs or an object under its own output prefix" }),
});
const UploadRequest = z.object({
  method: z.literal('PUT'),
  name: OutputName,
  bytes: z
    .number()
    .int()
    .nonnegative()
    .max(MAX_PRESIGNED_PUT_BYTES)
    .openapi({ description: 'The exact size of the object; the upload must send these many bytes' }),
});

/** A trainer asks for a short-lived URL to one object: it never holds storage credentials itself. */
export const StorageUrlRequestBody = z
  .discriminatedUnion('method', [DownloadRequest, UploadRequest])
  .openapi('StorageUrlRequestBody');
export type StorageUrlRequestBody = z.infer<typeof StorageUrlRequestBody>;

export const StorageUrlResponseBody = z
  .object({
    url: z.url().openapi({ description: 'Presigned URL for this one object and method' }),
    uri: S3Uri.openapi({ description: 'The object, as artifacts name it' }),
    expiresAt: Timestamp.openapi({ description: 'The URL must be used (the request started) before this' }),
  })
  .openapi('StorageUrlResponseBody');
export type StorageUrlResponseBody = z.infer<typeof StorageUrlResponseBody>;
