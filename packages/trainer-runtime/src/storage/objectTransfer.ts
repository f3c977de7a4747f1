import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import axios from 'axios';

/** The object named by a job does not exist (or is not readable): the job's input is at fault. */
export class MissingObjectError extends Error {
  readonly uri: string;
  constructor(uri: string) {
    super(`${uri} does not exist or cannot be read`);
    this.name = 'MissingObjectError';
    this.uri = uri;
  }
}

/** An upload that read or sent nothing for longer than its idle limit: aborted, never left hanging. */
export class UploadStalledError extends Error {
  override name = 'UploadStalledError';
}

/** The object store refused an upload. */
export class UploadRefusedError extends Error {
  override name = 'UploadRefusedError';
}

/** Calls `onChunk` for every chunk that passes. */
function meter(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onChunk(chunk);
      done(null, chunk);
    },
  });
}

/** Streams the object behind a presigned GET URL to a file, never holding it in memory; returns its size. */
export async function downloadObject(
  url: string,
  uri: string,
  file: string,
  signal?: AbortSignal,
  onProgress: () => void = () => undefined,
): Promise<number> {
  const response = await axios.get<Readable>(url, {
    responseType: 'stream',
    validateStatus: () => true,
    maxRedirects: 0,
    ...(signal ? { signal } : {}),
  });
  if (response.status === 404 || response.status === 403) {
    response.data.destroy();
    throw new MissingObjectError(uri);
  }
  if (response.status !== 200) {
    response.data.destroy();
    throw new Error(`Downloading ${uri} failed: HTTP ${response.status}`);
  }
  await pipeline(response.data, meter(onProgress), createWriteStream(file), { signal });
  return (await stat(file)).size;
}

/**
 * PUTs `body` (exactly `bytes` long: the URL's signature covers the length) to a presigned URL, aborting when
 * nothing moves for `idleTimeoutMs`.
 */
export async function uploadObject(
  url: string,
  body: Readable,
  bytes: number,
  options: { name: string; idleTimeoutMs: number },
): Promise<void> {
  const abort = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () =>
        abort.abort(
          new UploadStalledError(
            `upload of ${options.name} made no progress for ${options.idleTimeoutMs} ms`,
          ),
        ),
      options.idleTimeoutMs,
    );
  };
  const sent = body.pipe(meter(arm));
  body.once('error', (error) => sent.destroy(error));
  arm();
  try {
    const response = await axios.put(url, sent, {
      headers: { 'Content-Length': String(bytes), 'Content-Type': 'application/octet-stream' },
      maxBodyLength: Number.POSITIVE_INFINITY,
      maxRedirects: 0,
      responseType: 'text',
      validateStatus: () => true,
      signal: abort.signal,
    });
    if (response.status < 200 || response.status >= 300)
      throw new UploadRefusedError(
        `upload of ${options.name} refused: HTTP ${response.status} ${String(response.data).slice(0, 300)}`,
      );
  } catch (err) {
    if (abort.signal.aborted) throw abort.signal.reason;
    throw err;
  } finally {
    clearTimeout(idle);
    body.destroy();
  }
}
