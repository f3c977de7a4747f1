import type { z } from 'zod';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses the environment once at start-up; a failure names every bad or missing variable at once. `rules`
 * checks relations between variables on the raw values, so its problems are reported together with the
 * per-variable ones rather than only once those pass.
 */
export function loadConfig<T extends z.ZodType>(
  schema: T,
  env: NodeJS.ProcessEnv,
  rules?: z.ZodType,
): z.output<T> {
  const result = schema.safeParse(env);
  const related = rules?.safeParse(env);
  const issues = [...(result.error?.issues ?? []), ...(related?.error?.issues ?? [])];
  if (result.success && issues.length === 0) return result.data;
  throw new ConfigError(issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
}

/** S3 credentials come in pairs: a lone key id or secret is a mistake worth naming at start-up. */
export function checkCredentialPair(
  env: { AWS_ACCESS_KEY_ID?: string | undefined; AWS_SECRET_ACCESS_KEY?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (Boolean(env.AWS_ACCESS_KEY_ID) === Boolean(env.AWS_SECRET_ACCESS_KEY)) return;
  ctx.addIssue({
    code: 'custom',
    path: [env.AWS_ACCESS_KEY_ID ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'],
    message: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together',
  });
}
