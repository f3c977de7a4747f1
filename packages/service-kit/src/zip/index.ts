export { isJunk, unsafeEntryFault } from './entries.ts';
export {
  expansionFault,
  RATIO_CHECK_MIN_BYTES,
  TOTAL_RATIO_CHECK_MIN_BYTES,
  ZIP_SIZE_LIMITS,
  type ZipSizeLimits,
} from './limits.ts';
