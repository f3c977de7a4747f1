import { buffer } from 'node:stream/consumers';
import type { ZipFile } from 'yauzl';
import { fromBufferPromise, openPromise } from 'yauzl';

export interface ZipEntryRead {
  name: string;
  data: Buffer;
}

/** Reads every entry, in central-directory order, with yauzl: an independent zip reader. */
export async function readZip(source: Buffer | string): Promise<ZipEntryRead[]> {
  // Closed by hand below, so a failed read does not leave the file open.
  const options = { autoClose: false };
  const zip =
    typeof source === 'string'
      ? await openPromise(source, options)
      : await fromBufferPromise(source, options);
  return readEntries(zip);
}

async function readEntries(zip: ZipFile): Promise<ZipEntryRead[]> {
  const read: ZipEntryRead[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      read.push({ name: entry.fileName, data: await buffer(await zip.openReadStreamPromise(entry)) });
    }
  } finally {
    zip.close();
  }
  return read;
}
