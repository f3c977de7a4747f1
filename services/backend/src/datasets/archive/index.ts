export { type ArchiveErrorCode, ArchiveSourceError, MAX_REPORTED_ISSUES } from './archiveError.ts';
export { type DatasetSummary, inspectArchive } from './inspectArchive.ts';
export { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './limits.ts';
export { openZipFromBuffer, openZipFromS3 } from './openZip.ts';
export {
  type BlockCacheOptions,
  DEFAULT_BLOCK_CACHE,
  type S3ObjectRef,
  S3RandomAccessReader,
} from './s3RandomAccessReader.ts';
