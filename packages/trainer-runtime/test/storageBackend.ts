import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type EmbeddedS3, ensureBucket, startEmbeddedS3 } from '@vtp/service-kit/s3';
import { CallbackServer } from './callbackServer.ts';

/** A real S3-compatible server with one bucket, and a backend stand-in handing out presigned URLs to it. */
export interface StorageBackend {
  s3: S3Client;
  s3server: EmbeddedS3;
  backend: CallbackServer;
  stop(): Promise<void>;
}

/** Starts both under `dir`; `stop` takes them down again. */
export async function startStorageBackend(dir: string, bucket: string): Promise<StorageBackend> {
  const s3server = await startEmbeddedS3(join(dir, 's3'));
  const s3 = createS3Client({ ...s3server, region: 'us-east-1', forcePathStyle: true });
  await ensureBucket(s3, bucket);
  const backend = new CallbackServer();
  backend.serveStorage(s3, bucket);
  await backend.start();
  return {
    s3,
    s3server,
    backend,
    async stop() {
      await backend.stop();
      s3.destroy();
      await s3server.stop();
    },
  };
}
