import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, ensureBucket, startEmbeddedS3 } from '@vtp/service-kit/s3';
import type { S3ObjectRef } from './s3RandomAccessReader.ts';

/** Test support: the real embedded S3-compatible server, with a client that counts its GetObject calls. */
export interface TestS3 {
  s3: S3Client;
  getObjectCalls(): number;
  put(bytes: Buffer): Promise<S3ObjectRef>;
  stop(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'vtp-archive-'));
  const server = await startEmbeddedS3(directory);
  const s3 = createS3Client({ ...server, region: 'us-east-1', forcePathStyle: true });
  const bucket = 'archives';
  await ensureBucket(s3, bucket);

  let gets = 0;
  const send = s3.send.bind(s3);
  s3.send = ((command: unknown, ...rest: unknown[]) => {
    if (command instanceof GetObjectCommand) gets += 1;
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof s3.send;

  let uploads = 0;
  return {
    s3,
    getObjectCalls: () => gets,
    async put(bytes) {
      uploads += 1;
      const key = `staging/${uploads}.zip`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
      return { bucket, key, size: bytes.length };
    },
    async stop() {
      s3.destroy();
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
