import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import type { Artifact, ArtifactKind } from '@vtp/shared-schemas';
import { uploadObject } from '../storage/objectTransfer.ts';
import type { StorageUrls } from '../storage/storageUrls.ts';

/** A checkpoint the runner froze in its snapshot folder (see `Snapshots` in vtp_runner.py). */
export interface Snapshot {
  path: string;
  sha256: string;
  bytes: number;
  epoch: number;
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
  /** Called after each upload (for metrics). */
  onUploaded?: (kind: ArtifactKind, bytes: number, seconds: number) => void;
}

/**
 * Writes one job's artifacts below its attempt's output folder, each through a presigned URL the backend gives
 * for that one name. Checkpoints arrive as snapshots the runner took between two saves, so no file is read
 * while a framework writes it; their size and sha256 are checked on the way up. A snapshot whose bytes are
 * already stored is not sent again, and one is deleted once a newer one of its name is stored.
 */
export class ArtifactStore {
  private readonly storage: StorageUrls;
  private readonly options: ArtifactStoreOptions;
  /** Name -> the snapshot stored under it, and where. */
  private readonly stored = new Map<string, { snapshot: Snapshot; uri: string }>();

  constructor(storage: StorageUrls, options: ArtifactStoreOptions) {
    this.storage = storage;
    this.options = options;
  }

  async uploadSnapshot(snapshot: Snapshot, name: string, kind: ArtifactKind): Promise<Artifact> {
    if (!resolve(snapshot.path).startsWith(resolve(this.options.snapshotDir) + sep))
      throw new ArtifactMismatchError(`${snapshot.path} is not in the snapshot folder`);
    const previous = this.stored.get(name);
    let uri = previous?.uri;
    if (!uri || previous?.snapshot.sha256 !== snapshot.sha256) {
      uri = (await this.put(snapshot.path, name, kind, snapshot)).uri;
      this.stored.set(name, { snapshot, uri });
      if (previous && previous.snapshot.path !== snapshot.path)
        await rm(previous.snapshot.path, { force: true });
    }
    return artifact(kind, uri, snapshot.bytes, snapshot.sha256, snapshot.epoch);
  }

  /** Uploads a file nothing rewrites any more (metrics.json, the closed training log). */
  async uploadFile(file: string, name: string, kind: ArtifactKind): Promise<Artifact> {
    const { size } = await stat(file);
    const { uri, sha256 } = await this.put(file, name, kind, { bytes: size });
    return artifact(kind, uri, size, sha256);
  }

  /** Streams the file to its URL through a sha256; returns where it went and the digest of what was sent. */
  private async put(
    file: string,
    name: string,
    kind: ArtifactKind,
    expected: { bytes: number; sha256?: string },
  ): Promise<{ uri: string; sha256: string }> {
    const began = performance.now();
    const { url, uri } = await this.storage.get({ method: 'PUT', name, bytes: expected.bytes });
    const hash = createHash('sha256');
    const { onProgress } = this.options;
    let sent = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        sent += chunk.length;
        onProgress?.();
        done(null, chunk);
      },
    });
    const source = createReadStream(file);
    source.once('error', (error) => tap.destroy(error));
    try {
      await uploadObject(url, source.pipe(tap), expected.bytes, {
        name,
        idleTimeoutMs: this.options.idleTimeoutMs,
      });
    } finally {
      source.destroy();
    }
    const sha256 = hash.digest('hex');
    if (sent !== expected.bytes || (expected.sha256 && sha256 !== expected.sha256))
      throw new ArtifactMismatchError(
        `${name}: sent ${sent} bytes with sha256 ${sha256}, expected ${expected.bytes}${expected.sha256 ? ` with ${expected.sha256}` : ''}`,
      );
    this.options.onUploaded?.(kind, sent, (performance.now() - began) / 1000);
    return { uri, sha256 };
  }
}

function artifact(kind: ArtifactKind, uri: string, bytes: number, sha256: string, epoch?: number): Artifact {
  return { kind, uri, bytes, sha256, ...(epoch === undefined ? {} : { epoch }) };
}
