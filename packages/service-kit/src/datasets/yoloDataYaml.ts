import { parse } from 'yaml';

export type YoloSplit = 'train' | 'val' | 'test';

/** What the inspector needs from a YOLO data.yaml. Folders are relative to the dataset root, with a slash. */
export interface YoloConfig {
  names: string[];
  imageFolders: { train: string; val: string; test: string | undefined };
}

export type DataYamlResult = { config: YoloConfig; faults?: undefined } | { faults: string[] };

const DEFAULT_FOLDERS = { train: 'images/train/', val: 'images/val/' };

/**
 * Reads data.yaml the way Ultralytics does, restricted to what an uploaded archive can honour: `names` as a
 * list or a {0: name} mapping, `nc` if present matching it, and `train`/`val`/`test` as folders inside the
 * archive (default images/train and images/val), a leading ../ dropped as Ultralytics does. `path` is ignored:
 * the trainer sets it to where the archive is unpacked. The one rule: the backend checks uploads with it and
 * the Ultralytics trainer writes its data.yaml from it, so an upload accepted is a dataset the trainer takes.
 */
export function parseDataYaml(text: string): DataYamlResult {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    const firstLine = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.replace(/:$/, '');
    return { faults: [`is not valid YAML: ${firstLine}`] };
  }
  if (!isRecord(document)) return { faults: ['must be a YAML mapping with at least `names`'] };

  const faults: string[] = [];
  const names = parseNames(document.names, faults);
  if (names && document.nc !== undefined && document.nc !== null && document.nc !== names.length) {
    faults.push(`nc is ${JSON.stringify(document.nc)} but names lists ${names.length} classes`);
  }
  const train = parseFolder('train', document.train, faults) ?? DEFAULT_FOLDERS.train;
  const val = parseFolder('val', document.val, faults) ?? DEFAULT_FOLDERS.val;
  const test = parseFolder('test', document.test, faults);
  if (!names || faults.length) return { faults };
  return { config: { names, imageFolders: { train, val, test } } };
}

/** Ultralytics finds a label by replacing the last `images` segment of the image path with `labels`. */
export function labelFolderFor(imageFolder: string): string {
  const segments = imageFolder.split('/');
  segments[segments.lastIndexOf('images')] = 'labels';
  return segments.join('/');
}

function parseNames(value: unknown, faults: string[]): string[] | undefined {
  if (value === undefined || value === null) {
    faults.push('`names` is missing: list the class names, e.g. names: [cat, dog]');
    return undefined;
  }
  let entries: [string, unknown][];
  if (Array.isArray(value)) {
    entries = value.map((name, index) => [String(index), name]);
  } else if (isRecord(value)) {
    entries = Object.entries(value).sort(([a], [b]) => Number(a) - Number(b));
    const ids = entries.map(([id]) => id);
    if (!ids.every((id, index) => id === String(index))) {
      faults.push(`names ids must be 0, 1, 2, ... without gaps; found ${ids.join(', ')}`);
      return undefined;
    }
  } else {
    faults.push('`names` must be a list or a mapping of class id to name');
    return undefined;
  }
  if (entries.length === 0) {
    faults.push('`names` is empty: a dataset needs at least one class');
    return undefined;
  }
  const names: string[] = [];
  for (const [id, name] of entries) {
    const text = typeof name === 'string' || typeof name === 'number' ? String(name).trim() : '';
    if (!text) faults.push(`names[${id}] must be a non-empty string`);
    names.push(text);
  }
  return names.every(Boolean) ? names : undefined;
}

function parseFolder(key: YoloSplit, value: unknown, faults: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  const example = `images/${key}`;
  if (typeof value !== 'string') {
    faults.push(`\`${key}\` must be one folder path like ${example}; lists are not supported`);
    return undefined;
  }
  // Roboflow exports write `../train/images`; Ultralytics drops that leading ../ when the path does not exist.
  const folder = value
    .trim()
    .replace(/^(\.\.\/)?(\.\/)*/, '')
    .replace(/\/*$/, '/');
  const segments = folder.slice(0, -1).split('/');
  if (
    folder.startsWith('/') ||
    folder.includes('\\') ||
    segments.some((s) => s === '..' || s === '.' || !s)
  ) {
    faults.push(
      `\`${key}: ${value}\` must be a folder inside the archive, relative to data.yaml, like ${example}`,
    );
    return undefined;
  }
  if (!segments.includes('images')) {
    faults.push(
      `\`${key}: ${value}\` must be a folder with an images segment, like ${example}, so its labels folder is known`,
    );
    return undefined;
  }
  return folder;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
