export { isJunk, unsafeEntryFault } from './entries.ts';
export { RATIO_CHECK_MIN_BYTES, ZIP_SIZE_LIMITS, type ZipSizeLimits } from './limits.ts';
