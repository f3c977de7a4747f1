import type { ProblemIssue } from '@vtp/shared-schemas';
import type { z } from 'zod';
import { InputError } from './errors.ts';

export function zodIssues(error: z.ZodError, prefix: string): ProblemIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

/** Parses a request part against its contract; a failure names every offending field, e.g. `body.epochs`. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = zodIssues(result.error, where);
    throw new InputError(
      `Invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return result.data;
}
