import { VtpApiError } from '@vtp/client';
import { EmptyDatasetFolderError } from '@vtp/client/node';

/** What `vtp` exits with; `vtp --help` lists them. */
export const ExitCode = {
  ok: 0,
  /** The training failed or was cancelled (followed with `--follow`), or a download did not check out. */
  failed: 1,
  /** Bad arguments, or not logged in. */
  usage: 2,
  /** The API refused the request (4xx): its problem names the field or file. */
  refused: 3,
  /** The API could not be reached, or failed (5xx). */
  unavailable: 4,
} as const;

export const exitCodeHelp = `Exit codes:
  0  success
  1  the training failed or was cancelled (with --follow; its reason is printed), or a download did not check out
  2  bad arguments, or not logged in
  3  the API refused the request (the line says which field or file)
  4  the API could not be reached, or failed
  130  interrupted (Ctrl-C) while following a job, which runs on`;

/** An error the CLI reports as it is, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = ExitCode.usage) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** One line for the terminal, and the exit code, of anything a command threw. */
export function describeFailure(
  err: unknown,
  baseUrl: string | undefined,
): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof VtpApiError) {
    return { line: err.message, exitCode: err.status >= 500 ? ExitCode.unavailable : ExitCode.refused };
  }
  if (err instanceof TypeError && err.message === 'fetch failed') {
    const cause = (err.cause as { code?: string; message?: string } | undefined) ?? {};
    return {
      line: `cannot reach ${baseUrl ?? 'the API'}: ${cause.code ?? cause.message ?? 'network error'}`,
      exitCode: ExitCode.unavailable,
    };
  }
  // A local file that cannot be read (missing, a folder with nothing in it, no permission) is the caller's to fix.
  if ((err as { syscall?: string }).syscall || err instanceof EmptyDatasetFolderError)
    return { line: (err as Error).message, exitCode: ExitCode.usage };
  return { line: err instanceof Error ? err.message : String(err), exitCode: ExitCode.failed };
}
