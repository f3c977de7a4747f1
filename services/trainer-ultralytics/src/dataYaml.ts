import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidDatasetError, type PreparedDataset } from '@vtp/trainer-runtime';
import { parse, stringify } from 'yaml';

const DEFAULT_FOLDERS = { train: 'images/train', val: 'images/val' } as const;

/**
 * Writes the data.yaml Ultralytics trains from, next to the dataset: the dataset's class names, its train/val
 * (and test) folders, and an absolute `path:` to where it was unpacked, so nothing depends on the runner's cwd
 * and no `download:` key can ever make Ultralytics fetch anything.
 */
export async function writeDataYaml(datasetRoot: string, outputDir: string): Promise<PreparedDataset> {
  const source = join(datasetRoot, 'data.yaml');
  const fail = (message: string) => new InvalidDatasetError('data.yaml', message);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch {
    throw fail('is missing: a YOLO dataset needs data.yaml at its root listing the class names');
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw fail(`is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(document)) throw fail('must be a YAML mapping with at least `names`');

  const names = classNames(document.names, fail);
  const folders: Record<string, string> = {
    train: folder('train', document.train, fail) ?? DEFAULT_FOLDERS.train,
    val: folder('val', document.val, fail) ?? DEFAULT_FOLDERS.val,
  };
  const test = folder('test', document.test, fail);
  if (test) folders.test = test;
  for (const [split, path] of Object.entries(folders)) {
    const found = await stat(join(datasetRoot, path)).catch(() => undefined);
    if (!found?.isDirectory()) throw fail(`${split}: ${path} is not a folder of the dataset`);
  }

  const dataYaml = join(outputDir, 'data.yaml');
  await writeFile(dataYaml, stringify({ path: datasetRoot, ...folders, names }));
  return { dataYaml };
}

/** `names` as a list, or a {0: name, 1: name} mapping without gaps. */
function classNames(value: unknown, fail: (message: string) => Error): string[] {
  let entries: unknown[];
  if (Array.isArray(value)) {
    entries = value;
  } else if (isRecord(value)) {
    const ids = Object.keys(value).sort((a, b) => Number(a) - Number(b));
    if (!ids.every((id, index) => id === String(index))) {
      throw fail(`names ids must be 0, 1, 2, ... without gaps; found ${ids.join(', ')}`);
    }
    entries = ids.map((id) => value[id]);
  } else {
    throw fail('`names` is missing: list the class names, e.g. names: [cat, dog]');
  }
  if (entries.length === 0) throw fail('`names` is empty: a dataset needs at least one class');
  return entries.map((name, index) => {
    const text = typeof name === 'string' || typeof name === 'number' ? String(name).trim() : '';
    if (!text) throw fail(`names[${index}] must be a non-empty string`);
    return text;
  });
}

/** A split folder relative to the dataset root; never absolute, never climbing out. */
function folder(key: string, value: unknown, fail: (message: string) => Error): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fail(`\`${key}\` must be one folder path like images/${key}`);
  const path = value
    .trim()
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
  const segments = path.split('/');
  if (!path || path.startsWith('/') || segments.some((s) => s === '..' || s === '.' || s === '')) {
    throw fail(`\`${key}: ${value}\` must be a folder inside the dataset, like images/${key}`);
  }
  return path;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
