import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Location } from './client.ts';

export type PresignRequest =
  | ({ method: 'GET' } & S3Location)
  /** The size is signed: the store refuses a body of any other length. */
  | ({ method: 'PUT'; bytes: number } & S3Location);

export interface PresignedUrl {
  url: string;
  expiresAt: Date;
}

/** A URL that lets its holder do one thing to one object, for `ttlSeconds`, without any credentials. */
export async function presignObjectUrl(
  s3: S3Client,
  request: PresignRequest,
  ttlSeconds: number,
): Promise<PresignedUrl> {
  const command =
    request.method === 'GET'
      ? new GetObjectCommand({ Bucket: request.bucket, Key: request.key })
      : new PutObjectCommand({ Bucket: request.bucket, Key: request.key, ContentLength: request.bytes });
  const signedAt = new Date();
  const url = await getSignedUrl(s3, command, {
    expiresIn: ttlSeconds,
    signingDate: signedAt,
    signableHeaders: new Set(['content-length']),
  });
  return { url, expiresAt: new Date(signedAt.getTime() + ttlSeconds * 1000) };
}
