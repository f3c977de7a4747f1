import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  ExponentialBackoff,
  type FailureReason,
  handleWhen,
  type IBackoff,
  type IRetryBackoffContext,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { CallbackRequestOutcome, CircuitStateName } from '../observability/trainerMetrics.ts';
import type { HttpClient, HttpResult } from './httpClient.ts';
import type { CallbackTarget } from './outbox.ts';

export interface DeliveryPolicyOptions {
  /** Limit of one POST. */
  attemptTimeoutMs: number;
  /** Attempts of one delivery before the event waits in the outbox. */
  maxAttempts: number;
  /** First backoff between attempts; it grows exponentially, with jitter, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to it. */
  maxRetryAfterMs: number;
  /** Consecutive failures that open the circuit of a backend origin. */
  breakerThreshold: number;
  /** How long an open circuit refuses calls before one probe goes through. */
  halfOpenAfterMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicyOptions = {
  attemptTimeoutMs: 10_000,
  maxAttempts: 4,
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  breakerThreshold: 5,
  halfOpenAfterMs: 5_000,
};

export type DeliveryOutcome =
  /** 2xx: the backend has the event (and answered with `body`). */
  | { kind: 'delivered'; status: number; body: unknown }
  /** 4xx other than 429: sending it again cannot help. */
  | { kind: 'rejected'; status: number; body: unknown }
  /** No answer, 5xx, 429 or an open circuit, after every attempt: try again later (not before retryAfterMs). */
  | { kind: 'unavailable'; reason: string; retryAfterMs?: number };

const isRetryableStatus = (status: number) => status >= 500 || status === 429;

const CIRCUIT_STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Sends callbacks through one policy stack: a timeout per attempt, retries with exponential backoff and jitter
 * (a Retry-After header wins), and one circuit breaker per backend origin shared by every job, so a backend
 * that is down is probed, not hammered.
 */
export class CallbackSender {
  private readonly client: HttpClient;
  private readonly options: DeliveryPolicyOptions;
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly onRequest: (outcome: CallbackRequestOutcome) => void;

  /** `onRequest` hears of every HTTP request, each attempt of a delivery on its own (for metrics). */
  constructor(
    client: HttpClient,
    options: DeliveryPolicyOptions = DEFAULT_DELIVERY_POLICY,
    onRequest: (outcome: CallbackRequestOutcome) => void = () => undefined,
  ) {
    this.client = client;
    this.options = options;
    this.onRequest = onRequest;
  }

  /** The state of the circuit breaker of each backend origin called so far. */
  circuitStates(): CircuitStateName[] {
    return [...this.breakers.values()].map((breaker) => CIRCUIT_STATE_NAMES[breaker.state]);
  }

  /**
   * `onAttemptFailed` runs after each failed attempt, before the backoff: the caller saves the event then.
   * `maxAttempts` overrides the policy's for a caller that cannot wait.
   */
  async send(
    target: CallbackTarget,
    body: unknown,
    onAttemptFailed: (reason: string) => void,
    signal?: AbortSignal,
    maxAttempts = this.options.maxAttempts,
  ): Promise<DeliveryOutcome> {
    const transient = handleWhen((err) => !(err instanceof BrokenCircuitError)).orWhenResult((result) =>
      isRetryableStatus((result as HttpResult).status),
    );
    // Unref'd: a pause between attempts must not keep a stopping process alive.
    const retries = retry(transient, {
      maxAttempts: maxAttempts - 1,
      backoff: this.backoff(),
    }).dangerouslyUnref();
    retries.onRetry((reason) => onAttemptFailed(describe(reason)));
    const attemptTimeout = timeout(this.options.attemptTimeoutMs, TimeoutStrategy.Aggressive);
    const policy = wrap(retries, this.breakerFor(target.url), attemptTimeout);
    const headers = { ...target.traceHeaders, Authorization: `Bearer ${target.token}` };
    try {
      const result = await policy.execute(async ({ signal: attemptSignal }) => {
        try {
          const answer = await this.client.postJson(target.url, body, headers, attemptSignal);
          this.onRequest(
            answer.status >= 200 && answer.status < 300
              ? 'delivered'
              : isRetryableStatus(answer.status)
                ? 'failed'
                : 'rejected',
          );
          return answer;
        } catch (error) {
          this.onRequest('failed');
          throw error;
        }
      }, signal);
      if (result.status >= 200 && result.status < 300)
        return { kind: 'delivered', status: result.status, body: result.body };
      if (isRetryableStatus(result.status)) {
        const reason = describe({ value: result });
        onAttemptFailed(reason);
        const retryAfter = retryAfterMs({ value: result }, this.options.maxRetryAfterMs);
        return {
          kind: 'unavailable',
          reason,
          ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
        };
      }
      return { kind: 'rejected', status: result.status, body: result.body };
    } catch (error) {
      const reason = describe({ error });
      onAttemptFailed(reason);
      return { kind: 'unavailable', reason };
    }
  }

  private breakerFor(url: string): CircuitBreakerPolicy {
    const origin = new URL(url).origin;
    let breaker = this.breakers.get(origin);
    if (!breaker) {
      const failures = handleWhen(() => true).orWhenResult((result) =>
        isRetryableStatus((result as HttpResult).status),
      );
      breaker = circuitBreaker(failures, {
        halfOpenAfter: this.options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.options.breakerThreshold),
      });
      this.breakers.set(origin, breaker);
    }
    return breaker;
  }

  /** Exponential backoff with decorrelated jitter, unless the backend said when to come back. */
  private backoff(): DelegateBackoff<IRetryBackoffContext<unknown>, IBackoff<unknown>> {
    const exponential = new ExponentialBackoff({
      initialDelay: this.options.initialDelayMs,
      maxDelay: this.options.maxDelayMs,
    });
    return new DelegateBackoff((context, previous) => {
      const next = previous ? previous.next(context) : exponential.next();
      const retryAfter = retryAfterMs(context.result, this.options.maxRetryAfterMs);
      return { delay: retryAfter ?? next.duration, state: next };
    });
  }
}

/** Retry-After in seconds or as an HTTP date, bounded. */
function retryAfterMs(reason: FailureReason<unknown>, maxMs: number): number | undefined {
  if (!('value' in reason)) return undefined;
  const header = (reason.value as HttpResult).headers['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), maxMs) : undefined;
}

function describe(reason: FailureReason<unknown>): string {
  if ('value' in reason) return `HTTP ${(reason.value as HttpResult).status}`;
  const error = reason.error as { code?: string; message?: string };
  return error.code ?? error.message ?? String(reason.error);
}
