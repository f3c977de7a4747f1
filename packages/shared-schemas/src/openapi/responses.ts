import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { Problem } from '../common.ts';
import type { z } from '../zod.ts';

const problemDescriptions: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid credentials',
  403: 'Not allowed for this key',
  404: 'Not found (or not yours)',
  409: 'Conflicts with the current state',
  413: 'Upload too large',
  415: 'Unsupported media type',
  422: 'Failed validation; `issues` names each offending field or file',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Temporarily unavailable; see Retry-After',
};

export function json(schema: z.ZodType, description: string): ResponseConfig {
  return { description, content: { 'application/json': { schema } } };
}

/** Error responses, all with the one problem+json body. */
export function problems(...statuses: number[]): Record<number, ResponseConfig> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: problemDescriptions[status] ?? 'Error',
        content: { 'application/problem+json': { schema: Problem } },
      },
    ]),
  );
}

export const bearerAuth = [{ bearerAuth: [] }];
