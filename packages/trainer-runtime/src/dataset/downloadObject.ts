import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '@vtp/service-kit/s3';

/** The object named by a job does not exist (or is not readable): the job's input is at fault. */
export class MissingObjectError extends Error {
  readonly uri: string;
  constructor(uri: string, cause: unknown) {
    super(`${uri} does not exist or cannot be read`, { cause });
    this.name = 'MissingObjectError';
    this.uri = uri;
  }
}

/** Streams an S3 object to a file without holding it in memory; returns its size in bytes. */
export async function downloadObject(
  s3: S3Client,
  uri: string,
  file: string,
  signal?: AbortSignal,
  onProgress: () => void = () => undefined,
): Promise<number> {
  const { bucket, key } = parseS3Uri(uri);
  let body: Readable;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    body = object.Body as Readable;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || status === 403) throw new MissingObjectError(uri, err);
    throw err;
  }
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onProgress();
      done(null, chunk);
    },
  });
  await pipeline(body, meter, createWriteStream(file), { signal });
  return (await stat(file)).size;
}
