import { expansionFault, RATIO_CHECK_MIN_BYTES, TOTAL_RATIO_CHECK_MIN_BYTES } from '@vtp/service-kit/zip';
import type { ProblemIssue } from '@vtp/shared-schemas';
import { type Entry, getFileNameLowLevel, type ZipFile } from 'yauzl';
import { archiveError, toArchiveError } from './archiveError.ts';
import { isJunk, unsafeEntryFault } from './entryPaths.ts';
import type { ArchiveLimits } from './limits.ts';

/** What the central directory says, after safety and size checks; junk left out. Paths are archive paths. */
export interface ArchiveListing {
  /** File path -> declared uncompressed size. */
  files: Map<string, number>;
  /** Folders that have their own entry ('a/b/'), which may be empty. */
  folders: Set<string>;
  /** Entries of the text files the inspector may read; images are only counted, so theirs are dropped. */
  textEntries: Map<string, Entry>;
}

const STORED = 0;
const DEFLATED = 8;
const TEXT_FILE = /\.(txt|ya?ml)$/i;

/**
 * Walks the central directory without reading any content and refuses, in this order, unsafe entries,
 * oversized archives and unreadable compression methods, each reported by entry name.
 */
export async function readCentralDirectory(zip: ZipFile, limits: ArchiveLimits): Promise<ArchiveListing> {
  if (zip.entryCount > limits.maxEntries) {
    throw archiveError('archive_too_large', 'The archive has too many entries', [
      { path: '', message: `${zip.entryCount} entries, above the limit of ${limits.maxEntries}` },
    ]);
  }
  const listing: ArchiveListing = { files: new Map(), folders: new Set(), textEntries: new Map() };
  const unsafe: ProblemIssue[] = [];
  const oversized: ProblemIssue[] = [];
  const unreadable: ProblemIssue[] = [];
  const seen = new Set<string>();
  let totalBytes = 0;
  let totalCompressed = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      // strictFileNames keeps backslashes so that they can be refused rather than silently rewritten.
      const path = getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      const fault = seen.has(path)
        ? 'appears twice; extractors disagree on which copy wins'
        : unsafeEntryFault(path, entry);
      seen.add(path);
      if (fault) unsafe.push({ path, message: fault });

      totalBytes += entry.uncompressedSize;
      totalCompressed += entry.compressedSize;
      const bomb = expansionFault(
        entry.uncompressedSize,
        entry.compressedSize,
        limits,
        RATIO_CHECK_MIN_BYTES,
      );
      if (bomb) oversized.push({ path, message: bomb });
      if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
        unreadable.push({
          path,
          message: `uses compression method ${entry.compressionMethod}; only stored and deflate are supported`,
        });
      }

      if (fault || isJunk(path)) continue;
      if (path.endsWith('/')) {
        listing.folders.add(path);
      } else {
        listing.files.set(path, entry.uncompressedSize);
        if (TEXT_FILE.test(path)) listing.textEntries.set(path, entry);
      }
    }
  } catch (err) {
    throw toArchiveError(err, '');
  }

  if (unsafe.length) throw archiveError('unsafe_archive', 'The archive has unsafe entries', unsafe);
  const wholeBomb = expansionFault(totalBytes, totalCompressed, limits, TOTAL_RATIO_CHECK_MIN_BYTES);
  if (wholeBomb) oversized.unshift({ path: '', message: `the archive as a whole ${wholeBomb}` });
  if (totalBytes > limits.maxUncompressedBytes) {
    oversized.unshift({
      path: '',
      message: `unpacks to ${totalBytes} bytes, above the limit of ${limits.maxUncompressedBytes}`,
    });
  }
  if (oversized.length) throw archiveError('archive_too_large', 'The archive unpacks too large', oversized);
  if (unreadable.length) throw archiveError('invalid_archive', 'The archive cannot be unpacked', unreadable);
  return listing;
}
