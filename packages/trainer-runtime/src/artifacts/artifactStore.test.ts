import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, parseS3Uri } from '@vtp/service-kit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackServer } from '../../test/callbackServer.ts';
import { type StorageBackend, startStorageBackend } from '../../test/storageBackend.ts';
import { CallbackSender } from '../callbacks/deliveryPolicy.ts';
import { createHttpClient } from '../callbacks/httpClient.ts';
import { UploadStalledError } from '../storage/objectTransfer.ts';
import { StorageUrls } from '../storage/storageUrls.ts';
import { ArtifactMismatchError, ArtifactStore } from './artifactStore.ts';

const BUCKET = 'vtp-artifacts';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('ArtifactStore against a real S3 server', () => {
  let dir: string;
  let snapshots: string;
  let storage: StorageBackend;
  let s3: S3Client;
  let backend: CallbackServer;
  const sender = new CallbackSender(createHttpClient());

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-artifact-store-'));
    snapshots = join(dir, 'snapshots');
    await mkdir(snapshots);
    storage = await startStorageBackend(dir, BUCKET);
    ({ s3, backend } = storage);
  });
  afterAll(async () => {
    await storage?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function snapshot(name: string, bytes: Buffer, epoch = 1) {
    const path = join(snapshots, name);
    await writeFile(path, bytes);
    return { path, sha256: sha256(bytes), bytes: bytes.length, epoch };
  }

  /** A job's store, writing through the presigned URLs `urls` hands out. */
  function storeFor(jobId: string, urls = backend, idleTimeoutMs = 5000): ArtifactStore {
    const storage = new StorageUrls(
      sender,
      { url: urls.storageUrl(jobId), token: 'job-token' },
      {
        patienceMs: 5000,
      },
    );
    return new ArtifactStore(storage, { snapshotDir: snapshots, idleTimeoutMs });
  }

  async function stored(uri: string): Promise<Buffer> {
    const { bucket, key } = parseS3Uri(uri);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  }

  it('stores a snapshot with its sha256, skips bytes already stored, and deletes what a newer one replaced', async () => {
    const store = storeFor('a');
    const first = await snapshot('1.last.pt', Buffer.from('epoch one'));
    const artifact = await store.uploadSnapshot(first, 'weights/last.pt', 'last');
    expect(artifact).toEqual({
      kind: 'last',
      uri: `s3://${BUCKET}/jobs/a/weights/last.pt`,
      bytes: 9,
      sha256: first.sha256,
      epoch: 1,
    });
    expect((await stored(artifact.uri)).toString()).toBe('epoch one');

    const second = await snapshot('2.last.pt', Buffer.from('epoch two!'), 2);
    expect((await store.uploadSnapshot(second, 'weights/last.pt', 'last')).sha256).toBe(second.sha256);
    expect((await stored(artifact.uri)).toString()).toBe('epoch two!');
    expect(existsSync(first.path)).toBe(false);
    // Reported again unchanged (best.pt not improved): nothing is read or sent.
    await rm(second.path);
    expect((await store.uploadSnapshot(second, 'weights/last.pt', 'last')).epoch).toBe(2);
    // One presigned URL per upload, for that name and size only.
    expect(backend.storageRequests.filter((r) => r.jobId === 'a').map((r) => r.request)).toEqual([
      { method: 'PUT', name: 'weights/last.pt', bytes: 9 },
      { method: 'PUT', name: 'weights/last.pt', bytes: 10 },
    ]);
  });

  it('refuses a snapshot outside its folder, and one whose bytes are not those reported', async () => {
    const store = storeFor('b');
    const outside = join(dir, 'elsewhere.pt');
    await writeFile(outside, 'x');
    await expect(
      store.uploadSnapshot(
        { path: outside, sha256: sha256(Buffer.from('x')), bytes: 1, epoch: 1 },
        'w',
        'last',
      ),
    ).rejects.toBeInstanceOf(ArtifactMismatchError);
    const changed = await snapshot('3.best.pt', Buffer.from('what the runner hashed'));
    await writeFile(changed.path, 'what was written later');
    await expect(store.uploadSnapshot(changed, 'weights/best.pt', 'best')).rejects.toThrow(/sha256/);
  });

  it('fails an upload that makes no progress (an object store that accepts and never answers)', async () => {
    const sockets: Socket[] = [];
    const blackHole: Server = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((done) => blackHole.listen(0, '127.0.0.1', done));
    const { port } = blackHole.address() as { port: number };
    const hung = createS3Client({
      ...storage.s3server,
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
    });
    const hungUrls = new CallbackServer();
    hungUrls.serveStorage(hung, BUCKET);
    await hungUrls.start();
    try {
      const store = storeFor('c', hungUrls, 500);
      const started = Date.now();
      const upload = store.uploadSnapshot(
        await snapshot('4.last.pt', Buffer.alloc(1024, 1)),
        'weights/last.pt',
        'last',
      );
      await expect(upload).rejects.toBeInstanceOf(UploadStalledError);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await hungUrls.stop();
      hung.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => blackHole.close(done));
    }
  });
});
