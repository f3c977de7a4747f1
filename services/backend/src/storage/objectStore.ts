import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { formatS3Uri, type PresignedUrl, presignObjectUrl } from '@vtp/service-kit/s3';

/** S3's largest single PutObject; a longer body goes in parts. */
const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

/** The platform's bucket: datasets under `datasets/`, training outputs under `jobs/`. */
export class ObjectStore {
  readonly s3: S3Client;
  readonly bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  uri(key: string): string {
    return formatS3Uri({ bucket: this.bucket, key });
  }

  /**
   * Writes a stream. Of a known length (up to 5 GiB) it goes in one request as it arrives: no part is buffered
   * or copied, and the store has no parts to join at the end. Of an unknown length it goes as a multipart
   * upload, memory bounded by part size x queue size.
   */
  async putStream(key: string, body: Readable, contentType: string, bytes?: number): Promise<void> {
    if (bytes !== undefined && bytes <= MAX_SINGLE_PUT_BYTES) {
      // A failed body must end the request at once: the store would otherwise wait for the declared bytes.
      const aborted = new AbortController();
      const abort = (err: Error) => aborted.abort(err);
      body.once('error', abort);
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            ContentLength: bytes,
          }),
          { abortSignal: aborted.signal },
        );
      } finally {
        body.off('error', abort);
      }
      return;
    }
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The object's body; undefined when there is no such object (a reported file may never have arrived). */
  async getStream(key: string): Promise<Readable | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A URL for one GET, or one PUT of exactly `bytes`, of one object: what a trainer gets instead of credentials. */
  async presign(
    request: { method: 'GET'; key: string } | { method: 'PUT'; key: string; bytes: number },
    ttlSeconds: number,
  ): Promise<PresignedUrl> {
    return presignObjectUrl(this.s3, { ...request, bucket: this.bucket }, ttlSeconds);
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async list(prefix: string): Promise<{ key: string; lastModified: Date; bytes: number }[]> {
    const keys: { key: string; lastModified: Date; bytes: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key)
          keys.push({ key: item.Key, lastModified: item.LastModified ?? new Date(0), bytes: item.Size ?? 0 });
      }
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  async ping(): Promise<void> {
    await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}
