import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import yazl from 'yazl';

/** A local path that holds nothing to upload: the caller's to fix, not a failure of the API. */
export class EmptyDatasetFolderError extends Error {
  override name = 'EmptyDatasetFolderError';
}

/** A dataset zip read from disk, as a stream of known length. */
export interface DatasetSource {
  stream: ReadableStream<Uint8Array>;
  size: number;
  filename: string;
}

/** A `.zip` as it is, or a folder zipped on the fly (streamed: the zip is never written or held whole). */
export async function openDatasetSource(path: string): Promise<DatasetSource> {
  const info = await stat(path);
  if (info.isDirectory()) return zipDirectory(path);
  return {
    stream: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    size: info.size,
    filename: basename(path),
  };
}

/**
 * Zips every regular file under `dir` (paths relative to it, in a stable order), stored without compression:
 * images are compressed already, and stored entries give the zip's exact length before the first byte.
 */
export async function zipDirectory(dir: string): Promise<DatasetSource> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  if (files.length === 0) throw new EmptyDatasetFolderError(`${dir} holds no files to upload`);
  const zip = new yazl.ZipFile();
  for (const file of files) zip.addFile(file, relative(dir, file).split(sep).join('/'), { compress: false });
  const size = await new Promise<number>((resolve, reject) => {
    zip.once('error', reject);
    zip.end(undefined, ((total: number) => resolve(total)) as () => void);
  });
  return {
    stream: Readable.toWeb(zip.outputStream as Readable) as ReadableStream<Uint8Array>,
    size,
    filename: `${basename(dir)}.zip`,
  };
}
