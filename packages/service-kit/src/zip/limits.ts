/**
 * Size bounds of a dataset archive. One set for both sides: the backend refuses an upload past them, and a
 * trainer unpacks with the same ones, so whatever the backend accepted always unpacks.
 */
export interface ZipSizeLimits {
  /** Entries in the central directory, folders and junk included. */
  maxEntries: number;
  /** Sum of every entry's uncompressed size: what unpacking the archive writes to disk. */
  maxUncompressedBytes: number;
  /** Uncompressed:compressed ratio of any one large entry; ordinary images and labels stay far below it. */
  maxCompressionRatio: number;
}

export const ZIP_SIZE_LIMITS: ZipSizeLimits = {
  maxEntries: 200_000,
  maxUncompressedBytes: 20 * 1024 ** 3,
  maxCompressionRatio: 200,
};

/**
 * Entries smaller than this skip the ratio check: a small file of repeated text or a blank bitmap can compress
 * 1000:1 yet cannot hurt anyone; a bomb needs both a high ratio and a large output.
 */
export const RATIO_CHECK_MIN_BYTES = 1024 ** 2;
