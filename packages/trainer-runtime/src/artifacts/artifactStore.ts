import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { formatS3Uri, parseS3Uri } from '@vtp/service-kit/s3';
import type { Artifact, ArtifactKind } from '@vtp/shared-schemas';

const PART_BYTES = 16 * 1024 * 1024;

/** A checkpoint the runner froze in its snapshot folder (see `Snapshots` in vtp_runner.py). */
export interface Snapshot {
  path: string;
  sha256: string;
  bytes: number;
  epoch: number;
}

/** An upload that read or sent nothing for longer than its idle limit: aborted, never left hanging. */
export class UploadStalledError extends Error {
  override name = 'UploadStalledError';
}

/** A file whose bytes are not the ones it was reported with: it is not reported as an artifact. */
export class ArtifactMismatchError extends Error {
  override name = 'ArtifactMismatchError';
}

export interface ArtifactStoreOptions {
  /** Folder the runner's snapshots must lie in. */
  snapshotDir: string;
  /** An upload that makes no progress for this long fails. */
  idleTimeoutMs: number;
  /** Called as bytes go out. */
  onProgress?: () => void;
}

/**
 * Writes one job's artifacts under its output prefix. Each name has one key that later uploads overwrite (the
 * latest last.pt wins). Checkpoints arrive as snapshots the runner took between two saves, so no file is read
 * while a framework writes it; their size and sha256 are checked on the way up. A snapshot whose bytes are
 * already stored is not sent again, and one is deleted once a newer one of its name is stored.
 */
export class ArtifactStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly options: ArtifactStoreOptions;
  /** Name -> the snapshot stored under it. */
  private readonly stored = new Map<string, Snapshot>();

  constructor(s3: S3Client, uriPrefix: string, options: ArtifactStoreOptions) {
    this.s3 = s3;
    const { bucket, key } = parseS3Uri(uriPrefix);
    this.bucket = bucket;
    this.prefix = key.replace(/\/+$/, '');
    this.options = options;
  }

  uriFor(name: string): string {
    return formatS3Uri({ bucket: this.bucket, key: `${this.prefix}/${name}` });
  }

  async uploadSnapshot(snapshot: Snapshot, name: string, kind: ArtifactKind): Promise<Artifact> {
    if (!resolve(snapshot.path).startsWith(resolve(this.options.snapshotDir) + sep))
      throw new ArtifactMismatchError(`${snapshot.path} is not in the snapshot folder`);
    const previous = this.stored.get(name);
    if (previous?.sha256 !== snapshot.sha256) {
      await this.put(snapshot.path, name, snapshot);
      this.stored.set(name, snapshot);
      if (previous && previous.path !== snapshot.path) await rm(previous.path, { force: true });
    }
    return this.artifact(name, kind, snapshot.bytes, snapshot.sha256, snapshot.epoch);
  }

  /** Uploads a file nothing rewrites any more (metrics.json, the closed training log). */
  async uploadFile(file: string, name: string, kind: ArtifactKind): Promise<Artifact> {
    const { size } = await stat(file);
    const sha256 = await this.put(file, name, { bytes: size });
    return this.artifact(name, kind, size, sha256);
  }

  /** Streams the file to S3 through a sha256, aborting when it stalls; returns the digest of what was sent. */
  private async put(
    file: string,
    name: string,
    expected: { bytes: number; sha256?: string },
  ): Promise<string> {
    const hash = createHash('sha256');
    const { onProgress } = this.options;
    let sent = 0;
    let idle: NodeJS.Timeout | undefined;
    let stalled: (error: Error) => void = () => undefined;
    const stall = new Promise<never>((_, reject) => {
      stalled = reject;
    });
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        sent += chunk.length;
        arm();
        onProgress?.();
        done(null, chunk);
      },
    });
    const source = createReadStream(file);
    source.once('error', (error) => tap.destroy(error));
    source.pipe(tap);
    const upload = new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: `${this.prefix}/${name}`,
        Body: tap,
        ContentLength: expected.bytes,
      },
      partSize: PART_BYTES,
      queueSize: 2,
    });
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        stalled(
          new UploadStalledError(`upload of ${name} made no progress for ${this.options.idleTimeoutMs} ms`),
        );
        void upload.abort().catch(() => undefined);
      }, this.options.idleTimeoutMs);
    };
    upload.on('httpUploadProgress', arm);
    arm();
    try {
      await Promise.race([upload.done(), stall]);
    } finally {
      clearTimeout(idle);
      source.destroy();
    }
    const sha256 = hash.digest('hex');
    if (sent !== expected.bytes || (expected.sha256 && sha256 !== expected.sha256))
      throw new ArtifactMismatchError(
        `${name}: sent ${sent} bytes with sha256 ${sha256}, expected ${expected.bytes}${expected.sha256 ? ` with ${expected.sha256}` : ''}`,
      );
    return sha256;
  }

  private artifact(
    name: string,
    kind: ArtifactKind,
    bytes: number,
    sha256: string,
    epoch?: number,
  ): Artifact {
    return { kind, uri: this.uriFor(name), bytes, sha256, ...(epoch === undefined ? {} : { epoch }) };
  }
}
