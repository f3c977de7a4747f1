import { traceHeaders } from '@vtp/service-kit';
import {
  TrainerReadiness,
  Training,
  type TrainingStartRequestBody,
  type WeightsCheckRequestBody,
  WeightsCheckResponseBody,
} from '@vtp/shared-schemas';

export interface TrainerResponse<T> {
  status: number;
  body: T | undefined;
  retryAfterSeconds?: number;
}

/**
 * The backend's one HTTP client for trainer services. Returns the status instead of throwing on non-2xx, so
 * the caller decides what a 503 or a 404 means; network failures do throw.
 */
export class TrainerClient {
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(token: string, timeoutMs = 10_000) {
    this.token = token;
    this.timeoutMs = timeoutMs;
  }

  private async call(
    baseUrl: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<TrainerResponse<Training>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...traceHeaders(),
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    const retryAfter = Number(res.headers.get('retry-after'));
    const parsed = res.ok ? Training.safeParse(JSON.parse(text)) : undefined;
    return {
      status: res.status,
      body: parsed?.success ? parsed.data : undefined,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      ...(res.ok && !parsed?.success ? { status: 502 } : {}),
    };
  }

  start(baseUrl: string, spec: TrainingStartRequestBody) {
    return this.call(baseUrl, 'POST', '/v1/trainings', spec);
  }
  get(baseUrl: string, jobId: string) {
    return this.call(baseUrl, 'GET', `/v1/trainings/${jobId}`);
  }
  cancel(baseUrl: string, jobId: string) {
    return this.call(baseUrl, 'POST', `/v1/trainings/${jobId}/cancel`);
  }

  /** A weights check runs as long as loading the file takes: its own timeout, not the API calls' one. */
  async checkWeights(
    baseUrl: string,
    request: WeightsCheckRequestBody,
    timeoutMs: number,
  ): Promise<TrainerResponse<WeightsCheckResponseBody>> {
    const res = await fetch(`${baseUrl}/v1/weights-checks`, {
      method: 'POST',
      headers: {
        ...traceHeaders(),
        authorization: `Bearer ${this.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const parsed = res.ok ? WeightsCheckResponseBody.safeParse(await res.json()) : undefined;
    const retryAfter = Number(res.headers.get('retry-after'));
    if (!res.ok) await res.body?.cancel();
    return {
      status: res.ok && !parsed?.success ? 502 : res.status,
      body: parsed?.success ? parsed.data : undefined,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    };
  }

  async healthy(baseUrl: string): Promise<boolean> {
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(this.timeoutMs) });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** The trainer's own account of whether it can train (Python and framework importable), or undefined. */
  async readiness(baseUrl: string): Promise<TrainerReadiness | undefined> {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(this.timeoutMs) });
    const parsed = TrainerReadiness.safeParse(await res.json().catch(() => undefined));
    return parsed.success ? parsed.data : undefined;
  }

  async logs(baseUrl: string, jobId: string, follow: boolean): Promise<Response | undefined> {
    const res = await fetch(`${baseUrl}/v1/trainings/${jobId}/logs${follow ? '?follow=true' : ''}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    return res.ok ? res : undefined;
  }
}
