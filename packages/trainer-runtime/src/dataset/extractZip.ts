import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  expansionFault,
  isJunk,
  RATIO_CHECK_MIN_BYTES,
  TOTAL_RATIO_CHECK_MIN_BYTES,
  unsafeEntryFault,
  ZIP_SIZE_LIMITS,
  type ZipSizeLimits,
} from '@vtp/service-kit/zip';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { InvalidDatasetError } from '../adapter.ts';

export type ExtractLimits = ZipSizeLimits;

/** The bounds the backend checks at upload, so an accepted dataset always unpacks. */
export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = ZIP_SIZE_LIMITS;

export interface ExtractSummary {
  files: number;
  bytes: number;
}

/**
 * Extracts a zip into `destination`, refusing anything that could write outside it or exhaust the disk:
 * absolute paths, `..` segments, symbolic links, duplicate names, and archives over `limits`. Desktop junk
 * (__MACOSX/, .DS_Store, ._*) is skipped. A refusal names the entry at fault.
 */
export async function extractZip(
  zipPath: string,
  destination: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  signal?: AbortSignal,
  onProgress: () => void = () => undefined,
): Promise<ExtractSummary> {
  const zip = await openZip(zipPath).catch((err: unknown) => {
    throw isSystemError(err) ? err : notAZip(err);
  });
  const refuse = (name: string, message: string) => new InvalidDatasetError(`dataset.zip: ${name}`, message);
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new InvalidDatasetError(
        'dataset.zip',
        `has ${zip.entryCount} entries; at most ${limits.maxEntries}`,
      );
    }
    await mkdir(destination, { recursive: true });
    const summary: ExtractSummary = { files: 0, bytes: 0 };
    let compressed = 0;
    for await (const entry of entries(zip)) {
      signal?.throwIfAborted();
      const name = entry.fileName;
      const fault = unsafeEntryFault(name, entry);
      if (fault) throw refuse(name, fault);
      if (isJunk(name)) continue;
      const target = join(destination, name);
      const inside = relative(destination, target);
      if (inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
        throw refuse(name, 'resolves outside the dataset folder');
      }
      if (name.endsWith('/')) {
        await mkdir(target, { recursive: true });
        continue;
      }
      summary.bytes += entry.uncompressedSize;
      compressed += entry.compressedSize;
      if (summary.bytes > limits.maxUncompressedBytes) {
        throw refuse(name, `takes the archive past ${limits.maxUncompressedBytes} bytes uncompressed`);
      }
      const bomb =
        expansionFault(entry.uncompressedSize, entry.compressedSize, limits, RATIO_CHECK_MIN_BYTES) ??
        expansionFault(summary.bytes, compressed, limits, TOTAL_RATIO_CHECK_MIN_BYTES);
      if (bomb) throw refuse(name, `${bomb}, like a zip bomb`);
      await mkdir(dirname(target), { recursive: true });
      try {
        // 'wx': a name that appears twice would silently replace the first file.
        await pipeline(await openEntry(zip, entry), createWriteStream(target, { flags: 'wx' }), { signal });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          throw refuse(name, 'appears twice in the archive');
        throw err;
      }
      summary.files += 1;
      onProgress();
    }
    return summary;
  } catch (err) {
    // yauzl's own checks (bad paths, sizes that do not match, a truncated archive) are the dataset's fault too;
    // system errors (a full disk) and aborts are not.
    if (err instanceof InvalidDatasetError || signal?.aborted || isSystemError(err)) throw err;
    throw notAZip(err);
  } finally {
    zip.close();
  }
}

function notAZip(err: unknown): InvalidDatasetError {
  return new InvalidDatasetError('dataset.zip', `is not a readable zip archive: ${(err as Error).message}`);
}

function isSystemError(err: unknown): boolean {
  return (
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  );
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** The archive's entries one at a time; the next is read only when the previous one is done. */
async function* entries(zip: ZipFile): AsyncGenerator<Entry> {
  while (true) {
    const next = await new Promise<Entry | undefined>((resolve, reject) => {
      const cleanup = () => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        zip.off('error', onError);
      };
      const onEntry = (entry: Entry) => {
        cleanup();
        resolve(entry);
      };
      const onEnd = () => {
        cleanup();
        resolve(undefined);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      zip.on('entry', onEntry);
      zip.on('end', onEnd);
      zip.on('error', onError);
      zip.readEntry();
    });
    if (!next) return;
    yield next;
  }
}
