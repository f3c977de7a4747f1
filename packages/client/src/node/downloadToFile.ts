import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { VtpClient } from '../client.ts';
import type { ArtifactKind } from '../types.ts';

/** Where a download went and what it holds. */
export interface DownloadedArtifact {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Downloads one of a job's artifacts to `target` (a file, or an existing folder to put it in under its stored
 * name), checking its length and sha256 against what the server recorded; a partial or corrupt download is
 * removed, never left under the final name.
 */
export async function downloadArtifactToFile(
  vtp: VtpClient,
  jobId: string,
  kind: ArtifactKind,
  target: string,
  options: {
    onProgress?: (progress: { loaded: number; total: number | undefined }) => void;
    signal?: AbortSignal;
  } = {},
): Promise<DownloadedArtifact> {
  const download = await vtp.downloadArtifact(jobId, kind, options.signal);
  const isFolder = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const path = isFolder ? join(target, download.filename) : target;
  const partial = `${path}.partial`;
  const hash = createHash('sha256');
  let loaded = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      loaded += chunk.length;
      options.onProgress?.({ loaded, total: download.bytes });
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(download.body as never),
      meter,
      createWriteStream(partial, { mode: 0o644 }),
    );
    const sha256 = hash.digest('hex');
    if (download.bytes !== undefined && loaded !== download.bytes) {
      throw new Error(`${kind} artifact of job ${jobId}: got ${loaded} bytes, expected ${download.bytes}`);
    }
    if (download.sha256 && sha256 !== download.sha256) {
      throw new Error(`${kind} artifact of job ${jobId}: sha256 ${sha256}, expected ${download.sha256}`);
    }
    await rename(partial, path);
    return { path, bytes: loaded, sha256 };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
