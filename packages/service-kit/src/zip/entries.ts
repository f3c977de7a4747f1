import type { Entry } from 'yauzl';

const UNIX_HOST = 3;
const FILE_TYPE_MASK = 0o170000;
const SYMLINK_TYPE = 0o120000;

/**
 * Why extracting this zip entry could write outside the target folder or be read differently by other tools.
 * The one rule for both sides: the backend refuses such uploads, the trainers refuse to extract them.
 */
export function unsafeEntryFault(name: string, entry: Entry): string | undefined {
  if (name.includes('\\')) return 'contains a backslash; zip paths must use /';
  if (/\p{Cc}/u.test(name)) return 'contains a control character';
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return 'is an absolute path';
  const segments = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (segments.includes('..')) return 'climbs out of the archive with a .. segment';
  if (segments.some((segment) => segment === '' || segment === '.')) return 'has an empty or . path segment';
  const fileType = (entry.externalFileAttributes >>> 16) & FILE_TYPE_MASK;
  if (entry.versionMadeBy >> 8 === UNIX_HOST && fileType === SYMLINK_TYPE) return 'is a symbolic link';
  if (entry.isEncrypted()) return 'is encrypted';
  return undefined;
}

/** Files that archivers and desktops add on their own; they are skipped, never reported. */
export function isJunk(path: string): boolean {
  if (path === '__MACOSX/' || path.startsWith('__MACOSX/')) return true;
  const name = path.endsWith('/') ? '' : path.slice(path.lastIndexOf('/') + 1);
  const lower = name.toLowerCase();
  return name === '.DS_Store' || name.startsWith('._') || lower === 'thumbs.db' || lower === 'desktop.ini';
}
