import { setTimeout as sleep } from 'node:timers/promises';
import { type StorageUrlRequestBody, StorageUrlResponseBody } from '@vtp/shared-schemas';
import type { CallbackSender } from '../callbacks/deliveryPolicy.ts';
import type { CallbackTarget } from '../callbacks/outbox.ts';

/** The backend refused the URL (an object outside the job, a revoked token): asking again cannot help. */
export class StorageRefusedError extends Error {
  override name = 'StorageRefusedError';
}

/** The backend gave no URL for longer than the trainer waits: the transfer fails like a stalled one. */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
}

/** Pause between two rounds of asking while the backend is away (each round already retries with backoff). */
const ROUND_PAUSE_MS = 2000;

export interface StorageUrlsOptions {
  /** How long to keep asking while the backend is away. */
  patienceMs: number;
  /** False once waiting is pointless (the trainer is shutting down): one attempt, then give up. */
  patient?: () => boolean;
}

/**
 * Asks the backend for a presigned URL to one object at a time: the trainer holds no storage credentials, so a
 * compromised training reaches only its own job's objects. Requests go through the callback policy (timeouts,
 * backoff, one breaker per backend); while the backend is away they are repeated for up to `patienceMs`.
 */
export class StorageUrls {
  private readonly sender: CallbackSender;
  private readonly target: CallbackTarget;
  private readonly patienceMs: number;
  private readonly patient: () => boolean;

  constructor(sender: CallbackSender, target: CallbackTarget, options: StorageUrlsOptions) {
    this.sender = sender;
    this.target = target;
    this.patienceMs = options.patienceMs;
    this.patient = options.patient ?? (() => true);
  }

  async get(request: StorageUrlRequestBody, signal?: AbortSignal): Promise<StorageUrlResponseBody> {
    const what = request.method === 'GET' ? `reading ${request.uri}` : `writing ${request.name}`;
    const deadline = Date.now() + this.patienceMs;
    for (;;) {
      const patient = this.patient();
      const outcome = await this.sender.send(
        this.target,
        request,
        () => undefined,
        signal,
        patient ? undefined : 1,
      );
      signal?.throwIfAborted();
      if (outcome.kind === 'delivered') {
        const parsed = StorageUrlResponseBody.safeParse(outcome.body);
        if (!parsed.success) throw new StorageRefusedError(`The backend's answer for ${what} is not a URL`);
        return parsed.data;
      }
      if (outcome.kind === 'rejected') {
        const detail = (outcome.body as { detail?: unknown } | undefined)?.detail;
        throw new StorageRefusedError(
          `The backend refused ${what} (HTTP ${outcome.status}${typeof detail === 'string' ? `: ${detail}` : ''})`,
        );
      }
      const left = patient ? deadline - Date.now() : 0;
      if (left <= 0)
        throw new StorageUnavailableError(
          `No storage URL for ${what}${patient ? ` in ${Math.round(this.patienceMs / 1000)}s` : ''}: ${outcome.reason}`,
        );
      await sleep(Math.min(outcome.retryAfterMs ?? ROUND_PAUSE_MS, left), undefined, { signal });
    }
  }
}
