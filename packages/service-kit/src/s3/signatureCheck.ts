import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Why a request is refused, as S3 says it (always with 403). */
export interface Denial {
  code: 'AccessDenied' | 'InvalidAccessKeyId' | 'RequestTimeTooSkewed' | 'SignatureDoesNotMatch';
  message: string;
}

/** What a request says about its signature, from its Authorization header or its presigned URL. */
interface Claim {
  accessKeyId: string;
  region: string;
  signedAt: Date;
  signedHeaders: string[];
  payloadHash: string;
  signature: string;
  /** Presigned URLs only: seconds the URL is valid after `signedAt`. */
  expiresIn?: number;
}

const MAX_SKEW_MS = 15 * 60_000;
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
const PAYLOAD_HASH = 'x-amz-content-sha256';

class Refusal extends Error {
  readonly denial: Denial;
  constructor(denial: Denial) {
    super(denial.message);
    this.denial = denial;
  }
}

function refuse(code: Denial['code'], message: string): never {
  throw new Refusal({ code, message });
}

/**
 * Checks the AWS Signature Version 4 of a request (Authorization header or presigned URL) against one pair of
 * credentials, before any of its body is read. The signature is recomputed by the SDK's own signer from the
 * method, the path as sent, the query, the signed headers and the claimed payload hash: the body itself is not
 * hashed, so a signature vouches for the request line and headers, not for the bytes that follow.
 */
export function signatureCheck(
  credentials: S3Credentials,
): (req: IncomingMessage) => Promise<Denial | undefined> {
  // S3 signs the path as sent (no second URI encoding) and takes the payload hash from its header.
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  return async (req) => {
    try {
      await verify(req, credentials.accessKeyId, signer);
      return undefined;
    } catch (err) {
      if (err instanceof Refusal) return err.denial;
      // A malformed query (bad percent-encoding) or a value the signer refuses.
      return { code: 'AccessDenied', message: 'The request could not be authenticated.' };
    }
  };
}

async function verify(req: IncomingMessage, accessKeyId: string, signer: SignatureV4): Promise<void> {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark < 0 ? url : url.slice(0, mark);
  const query = parseQuery(mark < 0 ? '' : url.slice(mark + 1));
  const claim =
    req.headers.authorization !== undefined
      ? headerClaim(req.headers.authorization, req.headers)
      : 'X-Amz-Algorithm' in query
        ? presignedClaim(query)
        : refuse('AccessDenied', 'Anonymous requests are refused: sign them (AWS Signature Version 4).');
  if (claim.accessKeyId !== accessKeyId)
    refuse('InvalidAccessKeyId', 'The AWS access key ID you provided does not exist in our records.');
  checkTime(claim, Date.now());

  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const value = req.headers[name];
    if (typeof value !== 'string') refuse('AccessDenied', `The signed header ${name} is missing.`);
    headers[name] = value;
  }
  // The signer reads the payload hash from this header; it is signed only where the client signed it.
  headers[PAYLOAD_HASH] = claim.payloadHash;
  const request = { method: req.method ?? 'GET', protocol: 'http:', hostname: '', path, query, headers };
  const options = {
    signingDate: claim.signedAt,
    signingRegion: claim.region,
    signableHeaders: new Set(claim.signedHeaders),
    unsignableHeaders: new Set([PAYLOAD_HASH]),
  };
  const expected =
    claim.expiresIn === undefined
      ? /Signature=(\w+)$/.exec((await signer.sign(request, options)).headers.authorization ?? '')?.[1]
      : (
          await signer.presign(request, {
            ...options,
            expiresIn: claim.expiresIn,
            // Signed x-amz-* headers stay headers, as the client sent them.
            unhoistableHeaders: new Set(Object.keys(headers)),
          })
        ).query?.['X-Amz-Signature'];
  if (typeof expected !== 'string' || !sameText(expected, claim.signature))
    refuse(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
}

/** `Authorization: AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/s3/aws4_request, SignedHeaders=a;b, Signature=<hex>` */
function headerClaim(authorization: string, headers: IncomingHttpHeaders): Claim {
  const parts = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=(\w+)$/.exec(
    authorization,
  );
  if (!parts) refuse('AccessDenied', 'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is accepted.');
  const [, credential = '', signedHeaders = '', signature = ''] = parts;
  const payloadHash = headers[PAYLOAD_HASH];
  if (typeof payloadHash !== 'string') refuse('AccessDenied', `The ${PAYLOAD_HASH} header is required.`);
  return {
    ...scope(credential),
    signedAt: amzDate(headers['x-amz-date']),
    signedHeaders: signedHeaders.split(';'),
    payloadHash,
    signature,
  };
}

/** A presigned URL: its X-Amz-* query parameters; the payload is never signed. */
function presignedClaim(query: Record<string, string | string[]>): Claim {
  const param = (name: string): string => {
    const value = query[name];
    if (typeof value !== 'string') refuse('AccessDenied', `The query parameter ${name} is required once.`);
    return value;
  };
  if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
    refuse('AccessDenied', 'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is accepted.');
  const expiresIn = Number(param('X-Amz-Expires'));
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGNED_SECONDS)
    refuse('AccessDenied', `X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGNED_SECONDS}.`);
  return {
    ...scope(param('X-Amz-Credential')),
    signedAt: amzDate(param('X-Amz-Date')),
    signedHeaders: param('X-Amz-SignedHeaders').split(';'),
    payloadHash: 'UNSIGNED-PAYLOAD',
    signature: param('X-Amz-Signature'),
    expiresIn,
  };
}

/** `<access key id>/<yyyymmdd>/<region>/<service>/aws4_request`: the date and service are checked by the signature. */
function scope(credential: string): { accessKeyId: string; region: string } {
  const [accessKeyId, , region, ...rest] = credential.split('/');
  if (!accessKeyId || !region || rest.length !== 2)
    refuse('AccessDenied', 'The credential scope is malformed.');
  return { accessKeyId, region };
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `yyyymmddThhmmssZ` */
function amzDate(value: unknown): Date {
  const date =
    typeof value === 'string' && AMZ_DATE.test(value)
      ? new Date(value.replace(AMZ_DATE, '$1-$2-$3T$4:$5:$6Z'))
      : undefined;
  if (!date || Number.isNaN(date.getTime()))
    refuse('AccessDenied', 'AWS authentication requires a valid X-Amz-Date (yyyymmddThhmmssZ).');
  return date;
}

function checkTime(claim: Claim, now: number): void {
  const signedAt = claim.signedAt.getTime();
  if (claim.expiresIn === undefined) {
    if (Math.abs(now - signedAt) > MAX_SKEW_MS)
      refuse(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      );
    return;
  }
  if (signedAt - now > MAX_SKEW_MS) refuse('AccessDenied', 'Request is not valid yet');
  if (now > signedAt + claim.expiresIn * 1000) refuse('AccessDenied', 'Request has expired');
}

/** The query as the client's signer saw it: decoded, `+` kept literal, repeated names as arrays. */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const mark = pair.indexOf('=');
    const name = decodeURIComponent(mark < 0 ? pair : pair.slice(0, mark));
    const value = mark < 0 ? '' : decodeURIComponent(pair.slice(mark + 1));
    const seen = query[name];
    query[name] = seen === undefined ? value : [seen, value].flat();
  }
  return query;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
