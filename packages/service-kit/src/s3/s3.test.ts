import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
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

/** Keys the SDK must percent-encode in the path it signs. */
const TRICKY_KEYS = [
  'with space/a b.txt',
  'eq=and+plus.txt',
  "marks/!'()*~@$&,;:.txt",
  'ünï/日本 語.txt',
  'pct%20lit',
];

const clientOf = (
  { endpoint }: { endpoint: string },
  { accessKeyId, secretAccessKey }: { accessKeyId: string; secretAccessKey: string },
) => createS3Client({ endpoint, accessKeyId, secretAccessKey, region: 'us-east-1', forcePathStyle: true });

/** The S3 error a refused SDK call ends with, or 'served'. */
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => 'served',
    (err: { name: string; $metadata?: { httpStatusCode?: number } }) =>
      `${err.$metadata?.httpStatusCode} ${err.name}`,
  );

const exists = (s3: S3Client, Bucket: string, Key: string) =>
  s3.send(new HeadObjectCommand({ Bucket, Key })).then(
    () => true,
    (err: { name: string }) => (err.name === 'NotFound' ? false : Promise.reject(err)),
  );

describe('the embedded S3-compatible server answers only requests signed with its credentials', () => {
  const bucket = 'signed';
  let dir: string;
  let s3server: EmbeddedS3;
  let s3: S3Client;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-s3-'));
    s3server = await startEmbeddedS3(dir);
    s3 = clientOf(s3server, s3server);
    await ensureBucket(s3, bucket);
  });
  afterAll(async () => {
    s3.destroy();
    await s3server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('has random credentials of the usual shape', () => {
    expect(s3server.accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
    expect(s3server.secretAccessKey).toHaveLength(40);
    expect(s3server.accessKeyId).not.toBe('S3RVER');
  });

  it('serves puts, gets, lists and deletes of keys the SDK percent-encodes', async () => {
    for (const key of TRICKY_KEYS)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tricky/${key}`, Body: key }));
    for (const key of TRICKY_KEYS) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `tricky/${key}` }));
      expect(await got.Body?.transformToString()).toBe(key);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tricky/' }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(TRICKY_KEYS.map((k) => `tricky/${k}`).sort());
    for (const key of TRICKY_KEYS)
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `tricky/${key}` }));
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tricky/' }))).KeyCount).toBe(0);
  });

  it('takes a multipart upload of a stream, as the backend sends one', async () => {
    const chunks = Array.from({ length: 12 }, (_, i) => Buffer.alloc(1024 * 1024, i));
    const key = 'multi part/ü=+.bin';
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: Readable.from(chunks) },
    }).done();
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(Buffer.concat(chunks)));
  });

  it('refuses unsigned requests without reaching the store', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'kept' }));
    const get = await fetch(`${s3server.endpoint}/${bucket}/kept.txt`);
    expect(get.status).toBe(403);
    expect(await get.text()).toContain('<Code>AccessDenied</Code>');
    const put = await fetch(`${s3server.endpoint}/${bucket}/planted.txt`, { method: 'PUT', body: 'planted' });
    expect(put.status).toBe(403);
    expect((await fetch(`${s3server.endpoint}/`)).status).toBe(403);
    expect(await exists(s3, bucket, 'planted.txt')).toBe(false);
  });

  it("refuses a wrong secret and s3rver's old public pair", async () => {
    const wrongSecret = clientOf(s3server, { ...s3server, secretAccessKey: 'x'.repeat(40) });
    const oldPair = clientOf(s3server, { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
    for (const [client, refusal] of [
      [wrongSecret, '403 SignatureDoesNotMatch'],
      [oldPair, '403 InvalidAccessKeyId'],
    ] as const) {
      expect(await outcome(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' })))).toBe(
        refusal,
      );
      expect(
        await outcome(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'planted.txt', Body: 'x' }))),
      ).toBe(refusal);
      client.destroy();
    }
    expect(await exists(s3, bucket, 'planted.txt')).toBe(false);
  });

  it('serves presigned GETs and PUTs to plain fetch', async () => {
    for (const key of TRICKY_KEYS) {
      const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: `presigned/${key}` }));
      expect((await fetch(put, { method: 'PUT', body: `via ${key}` })).status).toBe(200);
      const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: `presigned/${key}` }));
      const response = await fetch(get);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(`via ${key}`);
    }
  });

  it('holds a presigned PUT to the length it signed', async () => {
    const command = new PutObjectCommand({ Bucket: bucket, Key: 'sized.txt', ContentLength: 5 });
    const url = await getSignedUrl(s3, command, { signableHeaders: new Set(['content-length']) });
    expect((await fetch(url, { method: 'PUT', body: 'longer' })).status).toBe(403);
    expect(await exists(s3, bucket, 'sized.txt')).toBe(false);
    expect((await fetch(url, { method: 'PUT', body: 'exact' })).status).toBe(200);
  });

  it('refuses a presigned URL whose signature or key was changed, or that has expired', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret.txt', Body: 'secret' }));
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' })));
    const signature = url.searchParams.get('X-Amz-Signature')!;
    const badSignature = new URL(url);
    badSignature.searchParams.set(
      'X-Amz-Signature',
      `${signature.slice(0, -1)}${signature.endsWith('0') ? 1 : 0}`,
    );
    const otherKey = new URL(url);
    otherKey.pathname = `/${bucket}/secret.txt`;
    for (const altered of [badSignature, otherKey]) {
      const response = await fetch(altered);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }

    const shortLived = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }), {
      expiresIn: 1,
    });
    await sleep(2000);
    const expired = await fetch(shortLived);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });

  it('lets each of two servers in one process accept only its own credentials', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'vtp-s3-'));
    const chosen = { accessKeyId: 'OTHERSERVERKEY000001', secretAccessKey: 'o'.repeat(40) };
    const other = await startEmbeddedS3(otherDir, { credentials: chosen });
    expect(other).toMatchObject(chosen);
    const ours = clientOf(other, s3server);
    const theirs = clientOf(other, other);
    const theirsHere = clientOf(s3server, other);
    try {
      expect(await ensureBucket(theirs, 'other')).toBe('created');
      expect(await outcome(ours.send(new ListObjectsV2Command({ Bucket: 'other' })))).toBe(
        '403 InvalidAccessKeyId',
      );
      expect(await outcome(theirsHere.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe(
        '403 InvalidAccessKeyId',
      );
    } finally {
      // Stops with the client's keep-alive connection still open.
      await other.stop();
      for (const client of [ours, theirs, theirsHere]) client.destroy();
      await rm(otherDir, { recursive: true, force: true });
    }
    expect(await exists(s3, bucket, 'kept.txt')).toBe(true);
  });
});

describe('s3 URIs', () => {
  it('parses and formats bucket and key', () => {
    expect(parseS3Uri('s3://b/x/y.zip')).toEqual({ bucket: 'b', key: 'x/y.zip' });
    expect(formatS3Uri({ bucket: 'b', key: 'x/y.zip' })).toBe('s3://b/x/y.zip');
    expect(() => parseS3Uri('http://b/x')).toThrow(/Not an s3/);
  });
});
