import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { type Denial, type S3Credentials, signatureCheck } from './signatureCheck.ts';

export interface EmbeddedS3 extends S3Credentials {
  endpoint: string;
  stop(): Promise<void>;
}

export interface EmbeddedS3Options {
  /** 0 (the default) = any free port. */
  port?: number;
  /** Unset = a random pair for this server. */
  credentials?: S3Credentials;
}

interface S3rverAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}

/**
 * s3rver's own key registry, shared by every s3rver of the process: a key must be in it for s3rver to serve a
 * request. Each server adds its pair (never taking another server's out) and s3rver's public `S3RVER` pair goes.
 */
const { DUMMY_ACCOUNT: s3rverAccount } = createRequire(import.meta.url)('s3rver/lib/models/account') as {
  DUMMY_ACCOUNT: S3rverAccount;
};

function randomCredentials(): S3Credentials {
  return {
    accessKeyId: randomBytes(10).toString('hex').toUpperCase(),
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
}

function deny(res: ServerResponse, { code, message }: Denial): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  // Closing the connection spares reading an unsigned upload's body just to throw it away.
  res
    .writeHead(403, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    })
    .end(body);
}

/**
 * A real S3-compatible server (s3rver) on loopback, storing objects under `directory`; used when no
 * S3_ENDPOINT is configured and by the tests. It serves only requests signed (AWS Signature Version 4, in the
 * Authorization header or a presigned URL) with its credentials, `options.credentials` or a random pair, which
 * it returns: s3rver checks no signature itself, so our own HTTP server in front of it answers anything else
 * with 403 before s3rver sees the request.
 */
export async function startEmbeddedS3(
  directory: string,
  options: EmbeddedS3Options = {},
): Promise<EmbeddedS3> {
  const credentials = options.credentials ?? randomCredentials();
  await mkdir(directory, { recursive: true });
  const s3rver = new S3rver({ directory, silent: true });
  s3rverAccount.revokeAccessKey('S3RVER');
  s3rverAccount.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const handle = s3rver.callback();
  const check = signatureCheck(credentials);
  const server = createServer((req, res) => {
    void check(req).then((denial) => (denial ? deny(res, denial) : handle(req, res)));
  });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed).listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', failed);
      listening();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...credentials,
    stop: () =>
      new Promise<void>((stopped, failed) => {
        server.close((err) => (err ? failed(err) : stopped()));
        // Keep-alive connections (the SDK's) would hold close() open.
        server.closeAllConnections();
      }),
  };
}
