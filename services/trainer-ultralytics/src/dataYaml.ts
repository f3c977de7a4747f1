import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDataYaml } from '@vtp/service-kit/datasets';
import { InvalidDatasetError, type PreparedDataset } from '@vtp/trainer-runtime';
import { stringify } from 'yaml';

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
  // The rule the backend checked the upload with: what it accepted, this takes.
  const parsed = parseDataYaml(text);
  if (parsed.faults) throw fail(parsed.faults.join('; '));
  const { names, imageFolders } = parsed.config;
  const folders: Record<string, string> = {};
  for (const [split, folder] of Object.entries(imageFolders)) {
    if (!folder) continue;
    const path = folder.replace(/\/$/, '');
    const found = await stat(join(datasetRoot, path)).catch(() => undefined);
    if (!found?.isDirectory()) throw fail(`${split}: ${path} is not a folder of the dataset`);
    folders[split] = path;
  }

  const dataYaml = join(outputDir, 'data.yaml');
  await writeFile(dataYaml, stringify({ path: datasetRoot, ...folders, names }));
  return { dataYaml };
}
