import { VtpApiError } from './problem.ts';
import { readSse } from './sse.ts';
import type { JobEvent } from './types.ts';

/** Options of `followJob`. */
export interface FollowOptions {
  /** Start after this seq (0: the whole history first). */
  after?: number;
  signal?: AbortSignal;
  /** Give up once reconnecting has failed for this long in a row (default 5 minutes). */
  reconnectTimeoutMs?: number;
  /** Told before each reconnection: why, and from which seq the stream resumes. */
  onReconnect?: (info: { lastEventId: number; reason: unknown; delayMs: number }) => void;
}

/** Opens the stream (the client's fetch with its key). */
export type OpenStream = (
  path: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
) => Promise<Response>;

/**
 * A job's events as they happen, history first: follows `GET /v1/jobs/{id}/events` as Server-Sent Events,
 * reconnects with `Last-Event-ID` when the connection drops or the backend restarts (nothing is missed or
 * repeated), and ends when the job has ended and its last event was yielded. A problem other than a busy or
 * unavailable backend (404, 401, ...) is thrown as `VtpApiError`.
 */
export async function* followJob(
  open: OpenStream,
  jobId: string,
  options: FollowOptions = {},
): AsyncGenerator<JobEvent, void> {
  const path = `/v1/jobs/${encodeURIComponent(jobId)}/events?after=${options.after ?? 0}`;
  let lastEventId = options.after ?? 0;
  let delayMs = 2000;
  let failingSince: number | undefined;
  for (;;) {
    let reason: unknown;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastEventId > 0) headers['last-event-id'] = String(lastEventId);
      const response = await open(path, headers, options.signal);
      if (response.ok && response.body) {
        failingSince = undefined;
        for await (const message of readSse(response.body, (ms) => {
          delayMs = ms;
        })) {
          if (message.event === 'end') return;
          if (message.id) lastEventId = Number(message.id);
          yield JSON.parse(message.data) as JobEvent;
        }
        reason = new Error('the event stream closed before the job ended');
      } else {
        const error = await VtpApiError.fromResponse(response);
        if (response.status !== 429 && response.status < 500) throw error;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (retryAfter > 0) delayMs = retryAfter * 1000;
        reason = error;
      }
    } catch (err) {
      if (err instanceof VtpApiError || options.signal?.aborted) throw err;
      reason = err;
    }
    failingSince ??= Date.now();
    if (Date.now() - failingSince > (options.reconnectTimeoutMs ?? 300_000)) throw reason;
    options.onReconnect?.({ lastEventId, reason, delayMs });
    await sleep(delayMs, options.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
