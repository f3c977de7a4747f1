import { writeFile } from 'node:fs/promises';
import { ZipFile } from 'yazl';
import type { DatasetEntry } from './dataset.ts';

const FILE_MODE = 0o100644;

/** Zips the entries, in order, into a buffer; the same entries always give the same bytes. */
export function zipBuffer(entries: readonly DatasetEntry[]): Promise<Buffer> {
  // yazl writes DOS times from a Date's local-time fields (plus a UTC extra field unless told not to), so the
  // date is built from local fields at each call and stored as DOS time only: the bytes then never depend on
  // the machine's time zone.
  const mtime = new Date(2020, 0, 1, 0, 0, 0);
  const zip = new ZipFile();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    zip.on('error', reject);
    zip.outputStream.on('error', reject);
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
  for (const entry of entries) {
    zip.addBuffer(entry.data, entry.path, {
      mtime,
      mode: FILE_MODE,
      forceDosTimestamp: true,
      // PNG data is already deflated; compressing it again only costs time.
      compress: !entry.path.endsWith('.png'),
    });
  }
  zip.end();
  return done;
}

/** Writes the entries as a zip file and returns its size in bytes. */
export async function writeZip(entries: readonly DatasetEntry[], file: string): Promise<number> {
  const data = await zipBuffer(entries);
  await writeFile(file, data);
  return data.length;
}
