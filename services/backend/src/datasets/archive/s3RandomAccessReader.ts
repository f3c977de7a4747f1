import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RandomAccessReader } from 'yauzl';
import { ArchiveSourceError } from './archiveError.ts';

export interface S3ObjectRef {
  bucket: string;
  key: string;
  /** Object size in bytes, known from the upload: yauzl needs it to find the central directory at the end. */
  size: number;
}

export interface BlockCacheOptions {
  /** Bytes fetched per ranged GET; a read of a few bytes pulls in its whole block as read-ahead. */
  blockBytes: number;
  /** Blocks kept, least recently used evicted first. */
  maxBlocks: number;
}

/** 256 KiB blocks, 4 MiB in all: a central directory walk or a run of label files costs one GET per block. */
export const DEFAULT_BLOCK_CACHE: BlockCacheOptions = { blockBytes: 256 * 1024, maxBlocks: 16 };

/**
 * Lets yauzl read a zip that sits in S3, with ranged GetObject requests. Zip readers make many small reads
 * (46-byte directory records, 30-byte local headers, small label files), so reads are served from whole
 * cached blocks. Storage failures surface as ArchiveSourceError, never as a malformed-zip error.
 */
export class S3RandomAccessReader extends RandomAccessReader {
  private readonly s3: S3Client;
  private readonly object: S3ObjectRef;
  private readonly cacheOptions: BlockCacheOptions;
  /** Insertion order is recency order: a hit moves its block to the end. Promises dedupe concurrent misses. */
  private readonly blocks = new Map<number, Promise<Buffer>>();

  constructor(s3: S3Client, object: S3ObjectRef, cacheOptions: BlockCacheOptions = DEFAULT_BLOCK_CACHE) {
    super();
    this.s3 = s3;
    this.object = object;
    this.cacheOptions = cacheOptions;
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(this.readRange(start, end), { objectMode: false });
  }

  /** yauzl's small header reads, served straight from the blocks rather than through a stream pipeline. */
  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    void (async () => {
      let written = 0;
      for await (const chunk of this.readRange(position, position + length)) {
        written += chunk.copy(buffer, offset + written);
      }
      if (written < length) throw new Error(`unexpected end of archive at byte ${position + written}`);
    })().then(() => callback(null), callback);
  }

  override close(callback: (err: Error | null) => void): void {
    this.blocks.clear();
    setImmediate(callback, null);
  }

  /** Yields the bytes of [start, end) block by block; stops short at the end of the object. */
  private async *readRange(start: number, end: number): AsyncGenerator<Buffer> {
    const { blockBytes } = this.cacheOptions;
    const stop = Math.min(end, this.object.size);
    for (let index = Math.floor(start / blockBytes); index * blockBytes < stop; index++) {
      const block = await this.block(index);
      const blockStart = index * blockBytes;
      yield block.subarray(Math.max(start - blockStart, 0), stop - blockStart);
    }
  }

  private block(index: number): Promise<Buffer> {
    const cached = this.blocks.get(index);
    if (cached) {
      this.blocks.delete(index);
      this.blocks.set(index, cached);
      return cached;
    }
    const loading = this.fetchBlock(index);
    this.blocks.set(index, loading);
    // A failed fetch must not poison the cache for a later retry.
    loading.catch(() => {
      if (this.blocks.get(index) === loading) this.blocks.delete(index);
    });
    if (this.blocks.size > this.cacheOptions.maxBlocks) {
      const oldest = this.blocks.keys().next().value;
      if (oldest !== undefined) this.blocks.delete(oldest);
    }
    return loading;
  }

  private async fetchBlock(index: number): Promise<Buffer> {
    const { bucket, key, size } = this.object;
    const first = index * this.cacheOptions.blockBytes;
    const last = Math.min(first + this.cacheOptions.blockBytes, size) - 1;
    try {
      const response = await this.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${first}-${last}` }),
      );
      if (!response.Body) throw new Error('response has no body');
      const bytes = await response.Body.transformToByteArray();
      if (bytes.length !== last - first + 1) {
        throw new Error(`expected ${last - first + 1} bytes, got ${bytes.length}; did the object change?`);
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ArchiveSourceError(
        `Reading bytes ${first}-${last} of s3://${bucket}/${key} failed: ${reason}`,
        {
          cause: err,
        },
      );
    }
  }
}
