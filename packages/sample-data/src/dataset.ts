import type { ClassStyle } from './scene.ts';
import { CLASS_PALETTE } from './scene.ts';

/** One file of a dataset: its path inside the dataset (forward slashes) and its bytes. */
export interface DatasetEntry {
  path: string;
  data: Buffer;
}

export type SampleDatasetFormat = 'yolo' | 'imagefolder';

export interface SampleDataset {
  format: SampleDatasetFormat;
  classNames: string[];
  imageCounts: { train: number; val: number };
  /** Every file, in a fixed order. */
  entries: DatasetEntry[];
}

export const SPLITS = ['train', 'val'] as const;
export type Split = (typeof SPLITS)[number];

/** Options both generators take. */
export interface CommonOptions {
  /** Same seed and options give byte-identical files. Default 1. */
  seed?: number;
  /** Width and height in pixels, 32 to 1024. Default 64. */
  imageSize?: number;
  /** How many classes, taken in order from CLASS_PALETTE (red, green, blue, ...). Default 3. */
  classes?: number;
}

export interface ResolvedCommonOptions {
  seed: number;
  imageSize: number;
  classes: ClassStyle[];
}

export function resolveCommonOptions(options: CommonOptions): ResolvedCommonOptions {
  const classCount = requireInteger('classes', options.classes ?? 3, 1, CLASS_PALETTE.length);
  return {
    seed: requireInteger('seed', options.seed ?? 1, 0, 0xffffffff),
    imageSize: requireInteger('imageSize', options.imageSize ?? 64, 32, 1024),
    classes: CLASS_PALETTE.slice(0, classCount),
  };
}

export function requireInteger(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${field} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Zero-padded so file listings sort in generation order. */
export function imageName(prefix: string, index: number): string {
  return `${prefix}_${String(index).padStart(4, '0')}.png`;
}
