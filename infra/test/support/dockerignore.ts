/**
 * Whether .dockerignore keeps `path` (relative to the build context) out of the context: the last pattern that
 * matches the path or one of its parent folders decides, `!` patterns let things back in. Patterns follow
 * Docker's: `*` and `?` stay within one path segment, `**` spans any number of them.
 */
export function isIgnored(path: string, dockerignore: string): boolean {
  const patterns = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const candidates = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const regex = globToRegex(negated ? pattern.slice(1) : pattern);
    if (candidates.some((candidate) => regex.test(candidate))) ignored = !negated;
  }
  return ignored;
}

function globToRegex(glob: string): RegExp {
  const cleaned = glob.replace(/^\/+/, '').replace(/\/+$/, '');
  let source = '';
  for (let i = 0; i < cleaned.length; i++) {
    const char = cleaned[i] ?? '';
    if (char === '*' && cleaned[i + 1] === '*') {
      // `**/` also matches nothing at all, so `**/x` matches a top-level x.
      source += cleaned[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += cleaned[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
