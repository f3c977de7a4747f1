import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, ensureBucket, formatS3Uri, parseS3Uri } from './client.ts';
import { type EmbeddedS3, startEmbeddedS3 } from './embedded.ts';

describe('S3 client against the embedded S3-compatible server', () => {
  let dir: string;
  let s3server: EmbeddedS3;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-s3-'));
    s3server = await startEmbeddedS3(dir);
  });
  afterAll(async () => {
    await s3server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a missing bucket once, then round-trips an object', async () => {
    const s3 = createS3Client({ ...s3server, region: 'us-east-1', forcePathStyle: true });
    expect(await ensureBucket(s3, 'round-trip')).toBe('created');
    expect(await ensureBucket(s3, 'round-trip')).toBe('exists');
    await s3.send(new PutObjectCommand({ Bucket: 'round-trip', Key: 'a/b.txt', Body: 'hello' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'round-trip', Key: 'a/b.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');
  });
});

describe('s3 URIs', () => {
  it('parses and formats bucket and key', () => {
    expect(parseS3Uri('s3://b/x/y.zip')).toEqual({ bucket: 'b', key: 'x/y.zip' });
    expect(formatS3Uri({ bucket: 'b', key: 'x/y.zip' })).toBe('s3://b/x/y.zip');
    expect(() => parseS3Uri('http://b/x')).toThrow(/Not an s3/);
  });
});
