import type { S3Client } from '@aws-sdk/client-s3';
import { fromBufferPromise, fromRandomAccessReaderPromise, type Options, type ZipFile } from 'yauzl';
import { toArchiveError } from './archiveError.ts';
import { type BlockCacheOptions, type S3ObjectRef, S3RandomAccessReader } from './s3RandomAccessReader.ts';

/**
 * decodeStrings is off on purpose: with it on, yauzl aborts the whole listing at the first `..` or absolute
 * name with an untyped Error, and silently turns backslashes into slashes. The inspector decodes names itself
 * so it can report every unsafe entry by name. autoClose is off because content is read after the listing.
 */
const ZIP_OPTIONS: Options = {
  lazyEntries: true,
  autoClose: false,
  validateEntrySizes: true,
  decodeStrings: false,
};

/** Opens a zip stored in S3; a non-zip throws InputError `invalid_archive`, a storage failure its own error. */
export async function openZipFromS3(
  s3: S3Client,
  object: S3ObjectRef,
  cacheOptions?: BlockCacheOptions,
): Promise<ZipFile> {
  try {
    return await fromRandomAccessReaderPromise(
      new S3RandomAccessReader(s3, object, cacheOptions),
      object.size,
      ZIP_OPTIONS,
    );
  } catch (err) {
    throw toArchiveError(err, '');
  }
}

/** Same as openZipFromS3 for an archive already in memory (small archives, tests). */
export async function openZipFromBuffer(buffer: Buffer): Promise<ZipFile> {
  try {
    return await fromBufferPromise(buffer, ZIP_OPTIONS);
  } catch (err) {
    throw toArchiveError(err, '');
  }
}
