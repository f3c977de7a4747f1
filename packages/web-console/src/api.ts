/**
 * Every call the console makes to the backend, in one place (to move onto `@vtp/client` as one change). The key
 * travels in the Authorization header only: event and log streams are read with fetch, not EventSource, which
 * could carry it only in the URL.
 */
import type {
  ApiKeyListResponseBody,
  ArtifactKind,
  Dataset,
  DatasetFormat,
  Job,
  JobCreateRequestBody,
  JobEvent,
  JobStatus,
  ModelListResponseBody,
  Problem,
} from '@vtp/shared-schemas';
import { SseParser } from './sse.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An answer that was not 2xx, with the problem the backend described (field or file at fault included). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Partial<Problem> | undefined;

  constructor(status: number, problem: Partial<Problem> | undefined) {
    const issues = (problem?.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`);
    super([problem?.detail ?? problem?.title ?? `HTTP ${status}`, ...issues].join('; '));
    this.status = status;
    this.problem = problem;
  }
}

export type JobFilters = { status?: JobStatus; framework?: Job['framework'] };
export type JobAction = 'cancel' | 'resume';

async function problemOf(res: Response): Promise<ApiError> {
  const body = await res.json().catch(() => undefined);
  return new ApiError(res.status, body as Partial<Problem> | undefined);
}

/** A stream's chunks through its reader (Safari cannot iterate a ReadableStream with for-await yet). */
async function* textChunks(stream: ReadableStream<string>): AsyncGenerator<string> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // A reader that stops early (the page was left) closes the connection.
    await reader.cancel().catch(() => undefined);
  }
}

export function createApi(apiKey: string, baseUrl = '') {
  const headers = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${apiKey}`, ...extra });

  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: headers({ accept: 'application/json', ...(init.headers as Record<string, string>) }),
    });
    if (!res.ok) throw await problemOf(res);
    return (await res.json()) as T;
  }

  async function stream(path: string, accept: string, signal: AbortSignal, lastEventId?: string) {
    const res = await fetch(`${baseUrl}${path}`, {
      headers: headers({ accept, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }),
      signal,
      cache: 'no-store',
    });
    if (!res.ok || !res.body) throw await problemOf(res);
    return textChunks(res.body.pipeThrough(new TextDecoderStream()));
  }

  return {
    /** Checks the key: every key may list its own keys. */
    whoAmI: async () => (await call<ApiKeyListResponseBody>('/v1/api-keys')).items[0]?.user ?? 'unknown user',
    models: () => call<ModelListResponseBody>('/v1/models'),
    datasets: () => call<Page<Dataset>>('/v1/datasets?limit=200'),
    dataset: (id: string) => call<Dataset>(`/v1/datasets/${encodeURIComponent(id)}`),
    jobs: (filters: JobFilters = {}) => {
      const query = new URLSearchParams({ limit: '200' });
      if (filters.status) query.set('status', filters.status);
      if (filters.framework) query.set('framework', filters.framework);
      return call<Page<Job>>(`/v1/jobs?${query}`);
    },
    job: (id: string) => call<Job>(`/v1/jobs/${encodeURIComponent(id)}`),
    createJob: (body: JobCreateRequestBody) =>
      call<Job>('/v1/jobs', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }),
    act: (id: string, action: JobAction) =>
      call<Job>(`/v1/jobs/${encodeURIComponent(id)}/${action}`, { method: 'POST' }),

    /** A multipart upload through XMLHttpRequest, the one browser API that reports upload progress. */
    uploadDataset(
      file: File,
      fields: { name: string; format: DatasetFormat },
      onProgress: (sent: number, total: number) => void,
    ): Promise<Dataset> {
      const form = new FormData();
      form.set('name', fields.name);
      form.set('format', fields.format);
      form.set('file', file);
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', `${baseUrl}/v1/datasets`);
        xhr.setRequestHeader('authorization', `Bearer ${apiKey}`);
        xhr.setRequestHeader('accept', 'application/json');
        xhr.responseType = 'json';
        xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total);
        xhr.onerror = () => reject(new ApiError(0, { detail: 'the upload failed: network error' }));
        xhr.onload = () =>
          xhr.status >= 200 && xhr.status < 300
            ? resolve(xhr.response as Dataset)
            : reject(new ApiError(xhr.status, xhr.response as Partial<Problem> | undefined));
        xhr.send(form);
      });
    },

    /**
     * A job's events from the first, then live until the job ends; a dropped connection is picked up again
     * after the last event received (Last-Event-ID), as EventSource would.
     */
    async *events(id: string, signal: AbortSignal): AsyncGenerator<JobEvent> {
      let lastEventId: string | undefined;
      for (;;) {
        try {
          const parser = new SseParser();
          for await (const chunk of await stream(
            `/v1/jobs/${encodeURIComponent(id)}/events`,
            'text/event-stream',
            signal,
            lastEventId,
          )) {
            for (const message of parser.feed(chunk)) {
              if (message.event === 'end') return;
              if (message.id) lastEventId = message.id;
              yield JSON.parse(message.data) as JobEvent;
            }
          }
        } catch (err) {
          if (signal.aborted || (err instanceof ApiError && err.status !== 503)) throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
        if (signal.aborted) return;
      }
    },

    /** The training log, followed live until the training ends. */
    async *log(id: string, signal: AbortSignal): AsyncGenerator<string> {
      yield* await stream(`/v1/jobs/${encodeURIComponent(id)}/logs?follow=true`, 'text/plain', signal);
    },

    /** An artifact's bytes (the API key cannot ride on a plain link, so the browser saves a Blob). */
    async artifact(id: string, kind: ArtifactKind): Promise<Blob> {
      const res = await fetch(`${baseUrl}/v1/jobs/${encodeURIComponent(id)}/artifacts/${kind}`, {
        headers: headers(),
      });
      if (!res.ok) throw await problemOf(res);
      return res.blob();
    },
  };
}

export type Api = ReturnType<typeof createApi>;
