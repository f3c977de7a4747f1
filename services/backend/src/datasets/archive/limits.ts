/** Bounds that keep a hostile or accidental archive from exhausting the inspector or the trainer that unpacks it. */
export interface ArchiveLimits {
  /** Entries in the central directory, folders and junk included. */
  maxEntries: number;
  /** Sum of every entry's uncompressed size: what unpacking the archive writes to disk. */
  maxUncompressedBytes: number;
  /** Uncompressed:compressed ratio of any one large entry; ordinary images and labels stay far below it. */
  maxCompressionRatio: number;
  /** Size of each text file the inspector reads whole: data.yaml and every YOLO label file. */
  maxLabelFileBytes: number;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 200_000,
  maxUncompressedBytes: 20 * GIB,
  maxCompressionRatio: 200,
  maxLabelFileBytes: 1 * MIB,
};

/**
 * Entries smaller than this skip the ratio check: a small file of repeated text or a blank bitmap can compress
 * 1000:1 yet cannot hurt anyone; a bomb needs both a high ratio and a large output.
 */
export const RATIO_CHECK_MIN_BYTES = 1 * MIB;
