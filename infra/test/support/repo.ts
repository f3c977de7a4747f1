import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root: Dockerfile paths, build contexts and manifests are all relative to it. */
export const repoRoot = join(import.meta.dirname, '..', '..', '..');

export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts);
}

export function readRepoFile(path: string): string {
  const file = repoPath(path);
  if (!existsSync(file)) throw new Error(`${path} does not exist in the repository`);
  return readFileSync(file, 'utf8');
}

interface PackageManifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
}

export function readManifest(dir: string): PackageManifest {
  return JSON.parse(readRepoFile(join(dir, 'package.json'))) as PackageManifest;
}

/** Every npm workspace of the root manifest (a trailing `/*` means each folder with a package.json). */
export function workspaces(): Map<string, string> {
  const found = new Map<string, string>();
  for (const pattern of readManifest('.').workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(repoPath(pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern];
    for (const dir of dirs) {
      if (existsSync(repoPath(dir, 'package.json'))) found.set(readManifest(dir).name, dir);
    }
  }
  return found;
}

/** The workspaces a package needs at run time: its own folder and its @vtp dependencies, transitively. */
export function runtimeWorkspaces(dir: string): string[] {
  const all = workspaces();
  const needed = new Set<string>([dir]);
  const visit = (from: string) => {
    for (const name of Object.keys(readManifest(from).dependencies ?? {})) {
      const target = all.get(name);
      if (target && !needed.has(target)) {
        needed.add(target);
        visit(target);
      }
    }
  };
  visit(dir);
  return [...needed].sort();
}
