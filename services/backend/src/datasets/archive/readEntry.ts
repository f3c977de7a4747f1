import { crc32 } from 'node:zlib';
import type { Entry, ZipFile } from 'yauzl';
import { toArchiveError } from './archiveError.ts';

/**
 * Reads one entry whole. yauzl's validateEntrySizes already fails a stream that inflates past its declared
 * size; the byte cap repeats that here so a ZipFile opened without it still cannot exhaust memory.
 * Corrupt data (bad deflate, lying sizes, CRC mismatch) throws InputError `invalid_archive` naming `path`.
 */
export async function readEntry(zip: ZipFile, entry: Entry, path: string, maxBytes: number): Promise<Buffer> {
  try {
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw new Error(`inflates past ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    if (crc32(bytes) !== entry.crc32) throw new Error('CRC-32 mismatch: the file is corrupt');
    return bytes;
  } catch (err) {
    throw toArchiveError(err, path);
  }
}
