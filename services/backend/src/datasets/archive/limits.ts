import { ZIP_SIZE_LIMITS, type ZipSizeLimits } from '@vtp/service-kit/zip';

/** Bounds that keep a hostile or accidental archive from exhausting the inspector or the trainer that unpacks it. */
export interface ArchiveLimits extends ZipSizeLimits {
  /** Size of each text file the inspector reads whole: data.yaml and every YOLO label file. */
  maxLabelFileBytes: number;
  /** Classes in one dataset (ImageNet has 1,000). */
  maxClasses: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  ...ZIP_SIZE_LIMITS,
  maxLabelFileBytes: 1024 ** 2,
  maxClasses: 10_000,
};
