import { labelFolderFor, parseDataYaml, type YoloConfig, type YoloSplit } from '@vtp/service-kit/datasets';
import type { ImageCounts, ProblemIssue } from '@vtp/shared-schemas';
import { archiveError } from './archiveError.ts';
import type { DatasetTree } from './datasetTree.ts';
import { IMAGE_EXTENSIONS_TEXT, isImage, stem } from './entryPaths.ts';
import { findLabelFault } from './labelFile.ts';
import type { ArchiveLimits } from './limits.ts';

/** Top-level folders of a YOLO dataset: a lone one of these is the dataset itself, not a wrapper. */
export const YOLO_TOP_FOLDERS = ['images', 'labels'] as const;

const SPLITS: readonly YoloSplit[] = ['train', 'val', 'test'];
const DEFAULT_TEST_FOLDER = 'images/test/';

export interface YoloSummary {
  classNames: string[];
  imageCounts: ImageCounts;
}

/**
 * Checks a YOLO detection dataset: data.yaml, then per split every image name and every label file's content.
 * An image without a label file is a background image; a label file without an image is an error.
 */
export async function inspectYolo(tree: DatasetTree, limits: ArchiveLimits): Promise<YoloSummary> {
  const config = await readConfig(tree, limits);
  const issues: ProblemIssue[] = [];
  const imageCounts: ImageCounts = { train: 0, val: 0, test: 0 };
  // train and val may name the same folder; its labels are checked once.
  const countByFolder = new Map<string, number>();
  for (const split of SPLITS) {
    const declared = config.imageFolders[split];
    const folder = declared ?? DEFAULT_TEST_FOLDER;
    const count = countByFolder.get(folder) ?? (await inspectSplit(tree, folder, config, limits, issues));
    countByFolder.set(folder, count);
    imageCounts[split] = count;
    if (count === 0 && declared) {
      issues.push({
        path: tree.root + folder,
        message: `has no images; the ${split} split needs at least one`,
      });
    }
  }
  if (issues.length) throw archiveError('invalid_dataset', 'The archive is not a valid YOLO dataset', issues);
  return { classNames: config.names, imageCounts };
}

async function readConfig(tree: DatasetTree, limits: ArchiveLimits): Promise<YoloConfig> {
  const path = 'data.yaml';
  const fail = (message: string) =>
    archiveError('invalid_dataset', 'The archive is not a valid YOLO dataset', [
      { path: tree.root + path, message },
    ]);
  const size = tree.files.get(path);
  if (size === undefined) {
    throw fail('is missing: a YOLO dataset needs data.yaml at its root listing the class names');
  }
  const fault = sizeFault(size, limits);
  if (fault) throw fail(fault);
  const text = decodeUtf8(await tree.read(path, limits.maxLabelFileBytes));
  if (text === undefined) throw fail('is not UTF-8 text');
  const result = parseDataYaml(text);
  if (result.faults) {
    throw archiveError(
      'invalid_dataset',
      'The archive is not a valid YOLO dataset',
      result.faults.map((message) => ({ path: tree.root + path, message })),
    );
  }
  return result.config;
}

/** Checks one split's images and labels, adding to `issues`; returns its image count. */
async function inspectSplit(
  tree: DatasetTree,
  imageFolder: string,
  config: YoloConfig,
  limits: ArchiveLimits,
  issues: ProblemIssue[],
): Promise<number> {
  const labelFolder = labelFolderFor(imageFolder);
  const imageStems = new Set<string>();
  const labels: string[] = [];
  let images = 0;
  for (const path of tree.files.keys()) {
    if (path.startsWith(imageFolder)) {
      if (isImage(path)) {
        images += 1;
        imageStems.add(stem(path.slice(imageFolder.length)));
      } else {
        issues.push({ path: tree.root + path, message: `is not an image (${IMAGE_EXTENSIONS_TEXT})` });
      }
    } else if (path.startsWith(labelFolder)) {
      if (path.endsWith('.txt')) labels.push(path);
      else issues.push({ path: tree.root + path, message: 'is not a .txt label file' });
    }
  }
  for (const path of labels) {
    const labelStem = stem(path.slice(labelFolder.length));
    const fault = imageStems.has(labelStem)
      ? await labelFault(tree, path, config.names.length, limits)
      : `has no matching image: expected ${imageFolder}${labelStem} with extension ${IMAGE_EXTENSIONS_TEXT}`;
    if (fault) issues.push({ path: tree.root + path, message: fault });
  }
  return images;
}

async function labelFault(
  tree: DatasetTree,
  path: string,
  classCount: number,
  limits: ArchiveLimits,
): Promise<string | undefined> {
  const tooLarge = sizeFault(tree.files.get(path) ?? 0, limits);
  if (tooLarge) return tooLarge;
  const text = decodeUtf8(await tree.read(path, limits.maxLabelFileBytes));
  if (text === undefined) return 'is not UTF-8 text';
  return findLabelFault(text, classCount);
}

function sizeFault(size: number, limits: ArchiveLimits): string | undefined {
  if (size <= limits.maxLabelFileBytes) return undefined;
  return `is ${size} bytes, above the limit of ${limits.maxLabelFileBytes} for a text file`;
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
