import type { ImageCounts, ProblemIssue } from '@vtp/shared-schemas';
import { archiveError } from './archiveError.ts';
import type { DatasetTree } from './datasetTree.ts';
import { IMAGE_EXTENSIONS_TEXT, isImage } from './entryPaths.ts';

const SPLITS = ['train', 'val', 'test'] as const;
type Split = (typeof SPLITS)[number];

/** Top-level folders of an imagefolder dataset: a lone one of these is the dataset itself, not a wrapper. */
export const IMAGEFOLDER_TOP_FOLDERS = SPLITS;

export interface ImageFolderSummary {
  classNames: string[];
  imageCounts: ImageCounts;
}

/**
 * Checks a torchvision ImageFolder layout: `<split>/<class>/<image>` with train and val required and test
 * optional. Classes are train's folder names in code-point order, which is Python's sorted() and hence the
 * class index torchvision assigns. Other top-level files and folders are ignored.
 */
export function inspectImageFolder(tree: DatasetTree): ImageFolderSummary {
  const issues: ProblemIssue[] = [];
  const report = (path: string, message: string) => issues.push({ path: tree.root + path, message });
  const classes: Record<Split, Map<string, number>> = { train: new Map(), val: new Map(), test: new Map() };
  const present = new Set<Split>();

  for (const folder of tree.folders) {
    const [split, className, ...deeper] = folder.slice(0, -1).split('/');
    if (!isSplit(split)) continue;
    present.add(split);
    if (deeper.length) report(folder, nestedMessage(split));
    else if (className && !classes[split].has(className)) classes[split].set(className, 0);
  }
  for (const path of tree.files.keys()) {
    const [split, className, fileName, ...deeper] = path.split('/');
    if (!isSplit(split)) continue;
    present.add(split);
    if (!className || !fileName) report(path, `must sit in a class folder: ${split}/<class>/<image>`);
    else if (deeper.length) report(path, nestedMessage(split));
    else if (!isImage(fileName)) report(path, `is not an image (${IMAGE_EXTENSIONS_TEXT})`);
    else classes[split].set(className, (classes[split].get(className) ?? 0) + 1);
  }

  const classNames = [...classes.train.keys()].sort(compareCodePoints);
  for (const split of SPLITS) {
    if (!present.has(split)) {
      if (split !== 'test')
        report(`${split}/`, `is missing: an imagefolder dataset needs ${split}/<class>/<image>`);
      continue;
    }
    for (const [className, count] of classes[split]) {
      if (split !== 'train' && !classes.train.has(className)) {
        report(`${split}/${className}/`, `class "${className}" has no folder in train/`);
      } else if (split === 'train' && count === 0) {
        report(`train/${className}/`, 'has no images; every class needs at least one training image');
      }
    }
    if (sum(classes[split]) === 0 && (split !== 'train' || classes.train.size === 0)) {
      report(`${split}/`, 'has no images');
    }
  }

  if (issues.length)
    throw archiveError('invalid_dataset', 'The archive is not a valid imagefolder dataset', issues);
  return {
    classNames,
    imageCounts: { train: sum(classes.train), val: sum(classes.val), test: sum(classes.test) },
  };
}

function isSplit(name: string | undefined): name is Split {
  return name === 'train' || name === 'val' || name === 'test';
}

function nestedMessage(split: Split): string {
  return `is nested too deep: images go directly in ${split}/<class>/`;
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

/** Python's string order (by code point); JavaScript's default sorts by UTF-16 unit and differs past U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (difference) return difference;
  }
  return left.length - right.length;
}
