import type { Problem } from './types.ts';

/**
 * Any answer of the API other than a success: carries its `application/problem+json` body (`code`, `title`,
 * `detail`, `issues` naming each field or file at fault), and its message is one readable line of all that.
 */
export class VtpApiError extends Error {
  override readonly name = 'VtpApiError';
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(describeProblem(problem));
    this.status = problem.status;
    this.problem = problem;
  }

  /** The stable machine-readable code (`validation_failed`, `not_found`, ...). */
  get code(): string {
    return this.problem.code;
  }

  /** Reads a failed response's body; one that is not a problem document (a proxy's page) still gives one. */
  static async fromResponse(response: Response): Promise<VtpApiError> {
    return VtpApiError.of(response.status, response.statusText, await response.text().catch(() => ''));
  }

  /** From a failed answer's status and body (its text, or the JSON already parsed from it). */
  static of(status: number, statusText: string, body: unknown): VtpApiError {
    return new VtpApiError(toProblem(status, statusText, body));
  }
}

function toProblem(status: number, statusText: string, body: unknown): Problem {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      // Not JSON: described below from the status and the text.
    }
  }
  const problem = parsed as Partial<Problem> | null;
  if (typeof problem?.code === 'string' && typeof problem.title === 'string') {
    return { ...problem, status } as Problem;
  }
  const text = typeof body === 'string' ? body.trim() : '';
  return {
    type: 'about:blank',
    title: statusText || `HTTP ${status}`,
    status,
    code: `http_${status}`,
    ...(text ? { detail: text.slice(0, 300) } : {}),
  };
}

/** `422 validation_failed: Invalid request: body.hyperparameters.epochs: Too big; labels/train/a.txt: ...` */
export function describeProblem(problem: Problem): string {
  const what = problem.detail && problem.detail !== problem.title ? problem.detail : problem.title;
  // Validation details already list their issues; others (an upload's bad file) are added here.
  const issues = (problem.issues ?? [])
    .filter((issue) => !what.includes(issue.path))
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  return `${problem.status} ${problem.code}: ${what}${issues ? ` (${issues})` : ''}`.replace(
    /\s*\n\s*/g,
    ' ',
  );
}
