import { Id, Text, Timestamp } from './common.ts';
import { z } from './zod.ts';

export const ApiKeyCreateRequestBody = z
  .strictObject({
    user: Text.trim()
      .min(1)
      .max(200)
      .openapi({ description: 'User the key belongs to; created when new', example: 'ada@example.com' }),
    name: Text.trim().min(1).max(200).default('default'),
  })
  .openapi('ApiKeyCreateRequestBody');
export type ApiKeyCreateRequestBody = z.infer<typeof ApiKeyCreateRequestBody>;

export const ApiKeyCreateResponseBody = z
  .object({
    id: Id,
    userId: Id,
    user: z.string(),
    name: z.string(),
    key: z
      .string()
      .openapi({ description: 'The secret itself. Shown only in this response; only its hash is kept.' }),
    createdAt: Timestamp,
  })
  .openapi('ApiKeyCreateResponseBody');
export type ApiKeyCreateResponseBody = z.infer<typeof ApiKeyCreateResponseBody>;

/** A key as it is listed: never the secret, which only its creation answer shows. */
export const ApiKey = z
  .object({ id: Id, userId: Id, user: z.string(), name: z.string(), createdAt: Timestamp })
  .openapi('ApiKey');
export type ApiKey = z.infer<typeof ApiKey>;

export const ApiKeyListResponseBody = z.object({ items: z.array(ApiKey) }).openapi('ApiKeyListResponseBody');
export type ApiKeyListResponseBody = z.infer<typeof ApiKeyListResponseBody>;

export const ApiKeyIdParams = z.object({ id: Id });
