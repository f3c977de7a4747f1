import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ExponentialBackoff, handleWhen, retry, TimeoutStrategy, timeout, wrap } from 'cockatiel';

export interface MlflowClientOptions {
  /** Limit of one JSON call. */
  callTimeoutMs: number;
  /** Limit of one artifact upload. */
  uploadTimeoutMs: number;
  /** Tries of one call (network errors, 5xx and 429 are tried again). */
  maxAttempts: number;
  initialDelayMs: number;
}

export const DEFAULT_MLFLOW_CLIENT_OPTIONS: MlflowClientOptions = {
  callTimeoutMs: 10_000,
  uploadTimeoutMs: 120_000,
  maxAttempts: 3,
  initialDelayMs: 200,
};

export type MlflowRunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

/** The part of MLflow's RunInfo the trainer uses. */
export interface MlflowRunInfo {
  runId: string;
  experimentId: string;
  status: string;
  artifactUri: string;
}

export interface MlflowMetric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface MlflowKeyValue {
  key: string;
  value: string;
}

/** MLflow answered with an error (its `error_code`, e.g. RESOURCE_DOES_NOT_EXIST). */
export class MlflowError extends Error {
  override name = 'MlflowError';
  readonly status: number;
  readonly errorCode: string | undefined;
  constructor(status: number, errorCode: string | undefined, message: string) {
    super(`MLflow answered ${status}${errorCode ? ` ${errorCode}` : ''}: ${message}`);
    this.status = status;
    this.errorCode = errorCode;
  }
}

const isTransientStatus = (status: number) => status >= 500 || status === 429;

/** Artifacts served by the tracking server itself (`mlflow server --serve-artifacts`, the default). */
const PROXIED_ARTIFACTS = /^mlflow-artifacts:(\/\/[^/]*)?\/(.*)$/;

interface RawRunInfo {
  run_id: string;
  experiment_id: string;
  status: string;
  artifact_uri: string;
}

function runInfoOf(raw: RawRunInfo): MlflowRunInfo {
  return {
    runId: raw.run_id,
    experimentId: raw.experiment_id,
    status: raw.status,
    artifactUri: raw.artifact_uri,
  };
}

/**
 * MLflow's REST API (`/api/2.0/mlflow/...`, `/api/2.0/mlflow-artifacts/...`), only the calls a training needs.
 * Each call has a timeout and a few quick tries; whatever still fails is thrown for the caller to judge.
 */
export class MlflowClient {
  private readonly base: string;
  private readonly options: MlflowClientOptions;

  constructor(trackingUri: string, options: MlflowClientOptions = DEFAULT_MLFLOW_CLIENT_OPTIONS) {
    this.base = trackingUri.replace(/\/+$/, '');
    this.options = options;
  }

  /** The experiment's id, or undefined when there is none of that name. */
  async experimentIdByName(name: string): Promise<string | undefined> {
    try {
      const body = await this.call<{ experiment: { experiment_id: string } }>(
        'GET',
        `experiments/get-by-name?${new URLSearchParams({ experiment_name: name })}`,
      );
      return body.experiment.experiment_id;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  /** The experiment's id, created when missing (another trainer creating it at the same moment is fine). */
  async ensureExperiment(name: string): Promise<string> {
    const existing = await this.experimentIdByName(name);
    if (existing) return existing;
    try {
      const body = await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name });
      return body.experiment_id;
    } catch (err) {
      if (!(err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
      const raced = await this.experimentIdByName(name);
      if (!raced) throw err;
      return raced;
    }
  }

  async getRun(runId: string): Promise<MlflowRunInfo | undefined> {
    try {
      const body = await this.call<{ run: { info: RawRunInfo } }>(
        'GET',
        `runs/get?${new URLSearchParams({ run_id: runId })}`,
      );
      return runInfoOf(body.run.info);
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  /** The newest live run of the experiment carrying tag `key` = `value`. */
  async findRunByTag(experimentId: string, key: string, value: string): Promise<MlflowRunInfo | undefined> {
    const body = await this.call<{ runs?: { info: RawRunInfo }[] }>('POST', 'runs/search', {
      experiment_ids: [experimentId],
      filter: `tags.\`${key}\` = '${value.replaceAll("'", "\\'")}'`,
      run_view_type: 'ACTIVE_ONLY',
      max_results: 1,
      order_by: ['attributes.start_time DESC'],
    });
    const run = body.runs?.[0];
    return run ? runInfoOf(run.info) : undefined;
  }

  async createRun(run: {
    experimentId: string;
    runName: string;
    startTime: number;
    tags: MlflowKeyValue[];
  }): Promise<MlflowRunInfo> {
    const body = await this.call<{ run: { info: RawRunInfo } }>('POST', 'runs/create', {
      experiment_id: run.experimentId,
      run_name: run.runName,
      start_time: run.startTime,
      tags: run.tags,
    });
    return runInfoOf(body.run.info);
  }

  async updateRun(runId: string, status: MlflowRunStatus, endTime?: number): Promise<void> {
    await this.call('POST', 'runs/update', {
      run_id: runId,
      status,
      ...(endTime === undefined ? {} : { end_time: endTime }),
    });
  }

  /** One `runs/log-batch` (MLflow takes up to 1000 metrics, 100 params and 100 tags in one). */
  async logBatch(
    runId: string,
    batch: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] },
  ): Promise<void> {
    await this.call('POST', 'runs/log-batch', { run_id: runId, ...batch });
  }

  /**
   * Uploads a file to the run's artifacts through the tracking server's artifact proxy. Returns false, having
   * sent nothing, when the run's artifacts live where only a storage client reaches (s3://, a local path).
   */
  async uploadArtifact(run: MlflowRunInfo, path: string, file: string): Promise<boolean> {
    const proxied = PROXIED_ARTIFACTS.exec(run.artifactUri);
    if (!proxied) return false;
    const where = `${proxied[2]}/${path}`.split('/').filter(Boolean).map(encodeURIComponent).join('/');
    const { size } = await stat(file);
    await this.request(
      'PUT',
      `${this.base}/api/2.0/mlflow-artifacts/artifacts/${where}`,
      () => ({
        body: Readable.toWeb(createReadStream(file)) as ReadableStream,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      }),
      this.options.uploadTimeoutMs,
    );
    return true;
  }

  private async call<T = unknown>(method: 'GET' | 'POST', path: string, json?: unknown): Promise<T> {
    const text = await this.request(
      method,
      `${this.base}/api/2.0/mlflow/${path}`,
      () => ({
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        headers: { 'content-type': 'application/json' },
      }),
      this.options.callTimeoutMs,
    );
    return JSON.parse(text) as T;
  }

  /**
   * One request with the policy: a timeout per try, quick retries of transient failures. Resolves with the
   * answer's text, read inside the try (the policy aborts the request's signal once the try returns).
   */
  private async request(
    method: string,
    url: string,
    init: () => { body?: string | ReadableStream; headers: Record<string, string> },
    timeoutMs: number,
  ): Promise<string> {
    const transient = handleWhen((err) => !(err instanceof MlflowError) || isTransientStatus(err.status));
    const policy = wrap(
      retry(transient, {
        maxAttempts: this.options.maxAttempts - 1,
        backoff: new ExponentialBackoff({ initialDelay: this.options.initialDelayMs, maxDelay: 2_000 }),
      }).dangerouslyUnref(),
      timeout(timeoutMs, TimeoutStrategy.Aggressive),
    );
    return policy.execute(async ({ signal }) => {
      const { body, headers } = init();
      const response = await fetch(url, {
        method,
        headers,
        signal,
        redirect: 'error',
        ...(body === undefined ? {} : { body, duplex: 'half' }),
      } as RequestInit);
      const text = await response.text();
      if (response.ok) return text;
      let errorCode: string | undefined;
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { error_code?: string; message?: string };
        errorCode = parsed.error_code;
        message = parsed.message ?? message;
      } catch {
        // Not MLflow's JSON error (a proxy's page): its text is the message.
      }
      throw new MlflowError(response.status, errorCode, message);
    });
  }
}
