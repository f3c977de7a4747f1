import { InputError } from '@vtp/service-kit';
import type { ProblemIssue } from '@vtp/shared-schemas';

/**
 * Why an archive was refused, as the problem+json `code`:
 * - `invalid_archive`: not a readable zip (corrupt, truncated, unsupported compression)
 * - `unsafe_archive`: an entry that could escape or confuse extraction (absolute, `..`, backslash, symlink,
 *   encrypted, duplicate)
 * - `archive_too_large`: a zip bomb or simply too much (entries, total size, compression ratio)
 * - `invalid_dataset`: a sound zip whose content is not a dataset of the declared format
 */
export type ArchiveErrorCode = 'invalid_archive' | 'unsafe_archive' | 'archive_too_large' | 'invalid_dataset';

/** Enough to fix the archive in one go without flooding the response for a wholly wrong upload. */
export const MAX_REPORTED_ISSUES = 50;

export function archiveError(code: ArchiveErrorCode, summary: string, issues: ProblemIssue[]): InputError {
  const first = issues[0];
  const where = first ? `${first.path || 'archive'}: ${first.message}` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  const reported = issues.slice(0, MAX_REPORTED_ISSUES);
  if (issues.length > MAX_REPORTED_ISSUES) {
    reported.push({ path: '', message: `... and ${issues.length - MAX_REPORTED_ISSUES} more` });
  }
  return new InputError(where ? `${summary}: ${where}${more}` : summary, reported, code);
}

/** A failure reading the archive's bytes from storage: an outage, not the uploader's fault, so never a 422. */
export class ArchiveSourceError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'ArchiveSourceError';
  }
}

/** yauzl reports malformed zips as plain Errors; storage failures keep their own type and propagate. */
export function toArchiveError(err: unknown, path: string): Error {
  if (err instanceof ArchiveSourceError || err instanceof InputError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return archiveError('invalid_archive', 'The upload is not a readable zip archive', [{ path, message }]);
}
