import { constants, createReadStream } from 'node:fs';
import { copyFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { formatS3Uri, parseS3Uri } from '@vtp/service-kit/s3';
import type { Artifact, ArtifactKind } from '@vtp/shared-schemas';

const PART_BYTES = 16 * 1024 * 1024;

/** A checkpoint frozen for upload: its own copy, or nothing when it has not changed since the last capture. */
export interface Capture {
  name: string;
  copy: string | undefined;
  bytes: number;
  identity: string;
}

/**
 * Writes one job's artifacts under its output prefix. Each name has one key that later uploads overwrite (the
 * latest last.pt wins). Runners rewrite checkpoints in place every epoch, so a checkpoint is first copied
 * (`capture`, at once) and the copy uploaded (`upload`, in turn); an unchanged file is not sent again.
 */
export class ArtifactStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly scratchDir: string;
  private readonly captured = new Map<string, string>();
  private copies = 0;

  constructor(s3: S3Client, uriPrefix: string, scratchDir: string) {
    this.s3 = s3;
    const { bucket, key } = parseS3Uri(uriPrefix);
    this.bucket = bucket;
    this.prefix = key.replace(/\/+$/, '');
    this.scratchDir = scratchDir;
  }

  uriFor(name: string): string {
    return formatS3Uri({ bucket: this.bucket, key: `${this.prefix}/${name}` });
  }

  async capture(file: string, name: string): Promise<Capture> {
    const { size, mtimeMs, ino } = await stat(file);
    const identity = `${ino}:${size}:${mtimeMs}`;
    if (this.captured.get(name) === identity) return { name, copy: undefined, bytes: size, identity };
    this.captured.set(name, identity);
    this.copies += 1;
    const copy = join(this.scratchDir, `${this.copies}.${name.replaceAll('/', '_')}`);
    // A reflink where the filesystem has them: instant and free.
    await copyFile(file, copy, constants.COPYFILE_FICLONE);
    return { name, copy, bytes: size, identity };
  }

  async upload(capture: Capture, kind: ArtifactKind, epoch?: number): Promise<Artifact> {
    if (capture.copy) {
      try {
        await this.put(capture.copy, capture.name, capture.bytes);
      } catch (err) {
        // Not in S3 after all: the next capture of this name must upload again.
        if (this.captured.get(capture.name) === capture.identity) this.captured.delete(capture.name);
        throw err;
      } finally {
        await rm(capture.copy, { force: true });
      }
    }
    return this.artifact(capture.name, kind, capture.bytes, epoch);
  }

  /** Uploads a file nothing rewrites any more (metrics.json, the closed training log). */
  async uploadFile(file: string, name: string, kind: ArtifactKind): Promise<Artifact> {
    const { size } = await stat(file);
    await this.put(file, name, size);
    return this.artifact(name, kind, size);
  }

  private async put(file: string, name: string, bytes: number): Promise<void> {
    await new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: `${this.prefix}/${name}`,
        Body: createReadStream(file),
        ContentLength: bytes,
      },
      partSize: PART_BYTES,
      queueSize: 2,
    }).done();
  }

  private artifact(name: string, kind: ArtifactKind, bytes: number, epoch?: number): Artifact {
    return { kind, uri: this.uriFor(name), bytes, ...(epoch === undefined ? {} : { epoch }) };
  }
}
