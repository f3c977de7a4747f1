import createClient, { type Client } from 'openapi-fetch';
import { type FollowOptions, followJob } from './follow.ts';
import type { paths } from './generated/backend.ts';
import { VtpApiError } from './problem.ts';
import type { ArtifactKind, Dataset, JobEvent } from './types.ts';
import { type DatasetUpload, sendUpload } from './upload.ts';

/** Where the API is and who calls it. */
export interface VtpClientOptions {
  /** The backend's URL, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** A user's API key (`vtp_...`); without one only the unauthenticated routes answer. */
  apiKey?: string | undefined;
}

/** An artifact being downloaded: its bytes as a stream, with what the server says of them. */
export interface ArtifactDownload {
  body: ReadableStream<Uint8Array>;
  /** From `Content-Length`. */
  bytes: number | undefined;
  /** From `X-Checksum-Sha256`, when the trainer recorded it. */
  sha256: string | undefined;
  /** The stored file's name (`best.pt`, `model_best.pth.tar`, ...). */
  filename: string;
}

/** The typed API client and the helpers for what a plain request does awkwardly. */
export interface VtpClient {
  readonly baseUrl: string;
  /** The typed openapi-fetch client: `api.GET('/v1/jobs/{id}', { params: { path: { id } } })`; see `unwrap`. */
  readonly api: Client<paths>;
  /** Uploads a dataset zip with progress (streamed, never held whole where the platform allows). */
  uploadDataset(upload: DatasetUpload): Promise<Dataset>;
  /** A job's events as an async iterator that reconnects with `Last-Event-ID` and ends with the job. */
  followJob(jobId: string, options?: FollowOptions): AsyncGenerator<JobEvent, void>;
  /** The training log as text chunks; with `follow`, live until the training ends. */
  readLogs(jobId: string, options?: { follow?: boolean; signal?: AbortSignal }): AsyncGenerator<string, void>;
  /** Opens one of a job's artifacts (`best`, `last`, `metrics`, `log`, ...) for download. */
  downloadArtifact(jobId: string, kind: ArtifactKind, signal?: AbortSignal): Promise<ArtifactDownload>;
}

/** Creates a client of the platform's API at `baseUrl`, authenticated with `apiKey`. Works in browsers and Node. */
export function createVtpClient(options: VtpClientOptions): VtpClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const api = createClient<paths>({ baseUrl, headers: auth });

  /** A request outside openapi-fetch (streams): a failed answer is thrown as `VtpApiError`. */
  const send = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { ...auth, ...(init.headers as Record<string, string>) },
    });
    if (!response.ok) throw await VtpApiError.fromResponse(response);
    return response;
  };
  const jobPath = (jobId: string) => `/v1/jobs/${encodeURIComponent(jobId)}`;

  return {
    baseUrl,
    api,
    async uploadDataset(upload) {
      const answer = await sendUpload(`${baseUrl}/v1/datasets`, auth, upload);
      if (answer.status !== 201) throw VtpApiError.of(answer.status, answer.statusText, answer.text);
      return JSON.parse(answer.text) as Dataset;
    },
    followJob(jobId, followOptions) {
      return followJob(
        (path, headers, signal) =>
          fetch(`${baseUrl}${path}`, { headers: { ...auth, ...headers }, signal: signal ?? null }),
        jobId,
        followOptions,
      );
    },
    async *readLogs(jobId, { follow = false, signal } = {}) {
      const response = await send(`${jobPath(jobId)}/logs?follow=${follow}`, { signal: signal ?? null });
      if (!response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    },
    async downloadArtifact(jobId, kind, signal) {
      const response = await send(`${jobPath(jobId)}/artifacts/${encodeURIComponent(kind)}`, {
        signal: signal ?? null,
      });
      const length = response.headers.get('content-length');
      const disposition = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '');
      return {
        body: response.body ?? new Blob([]).stream(),
        bytes: length === null ? undefined : Number(length),
        sha256: response.headers.get('x-checksum-sha256') ?? undefined,
        filename: safeFileName(disposition?.[1]) ?? kind,
      };
    },
  };
}

/**
 * The data of an openapi-fetch answer, or its failure thrown as `VtpApiError`:
 * `const job = unwrap(await vtp.api.GET('/v1/jobs/{id}', { params: { path: { id } } }))`.
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) {
    throw VtpApiError.of(result.response.status, result.response.statusText, result.error);
  }
  return result.data as T;
}

/** The server's file name as a plain name: never a path that could lead a download out of its folder. */
function safeFileName(name: string | undefined): string | undefined {
  const base = name?.split(/[\\/]/).at(-1);
  return base && base !== '.' && base !== '..' ? base : undefined;
}
