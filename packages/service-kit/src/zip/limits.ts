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

/**
 * The same ratio over the whole archive, once it unpacks to this much: thousands of entries each just under
 * RATIO_CHECK_MIN_BYTES (3,000 x 1 MiB of zeros is a 4 MB zip and 3 GB on disk) are a bomb too.
 */
export const TOTAL_RATIO_CHECK_MIN_BYTES = 64 * 1024 ** 2;

/** Why `uncompressed` bytes from `compressed` look like a bomb, or undefined when they do not. */
export function expansionFault(
  uncompressed: number,
  compressed: number,
  limits: ZipSizeLimits,
  minBytes: number,
): string | undefined {
  const ratio = uncompressed / Math.max(compressed, 1);
  if (uncompressed < minBytes || ratio <= limits.maxCompressionRatio) return undefined;
  return `expands ${Math.round(ratio)}:1 to ${uncompressed} bytes, above the limit of ${limits.maxCompressionRatio}:1`;
}
