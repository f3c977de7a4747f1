import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri, presignObjectUrl } from '@vtp/service-kit/s3';
import {
  StorageUrlRequestBody,
  type StorageUrlResponseBody,
  TrainerEvent,
  TrainerEventBatch,
} from '@vtp/shared-schemas';
import express from 'express';

export interface ReceivedEvent {
  jobId: string;
  event: TrainerEvent;
  authorization: string | undefined;
  traceparent: string | undefined;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
}

/**
 * A real HTTP server standing in for the backend's trainer endpoints: it checks each callback body against the
 * TrainerEvent contract, records what it accepted, and can be told to fail (scripted statuses) or to go away
 * (stop: connections refused) and come back on the same port. With `serveStorage`, it also hands out real
 * presigned URLs for a real S3-compatible server, as the backend does (without the backend's scope checks).
 */
export class CallbackServer {
  readonly accepted: ReceivedEvent[] = [];
  /** The number of events in each accepted callback request, in order. */
  readonly batches: number[] = [];
  /** Every storage URL request, in order. */
  readonly storageRequests: Array<{ jobId: string; request: StorageUrlRequestBody }> = [];
  /** Bodies that broke the contract: a test expects none. */
  readonly invalid: unknown[] = [];
  /** Every request, answered or not, with when it came and the status it got. */
  readonly attempts: Array<{ at: number; status: number }> = [];
  port = 0;
  private readonly script: ScriptedAnswer[] = [];
  private storage: { s3: S3Client; bucket: string } | undefined;
  private server: Server | undefined;
  private waiters: Array<() => void> = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  callbackUrl(jobId: string): string {
    return `${this.url}/v1/jobs/${jobId}/callback`;
  }

  /** Where the trainer of `jobId`'s attempt asks for storage URLs. */
  storageUrl(jobId: string, attempt = 1): string {
    return `${this.url}/v1/jobs/${jobId}/storage-urls?attempt=${attempt}`;
  }

  /** Hands out presigned URLs to objects of `bucket`; outputs go where the backend puts them. */
  serveStorage(s3: S3Client, bucket: string): void {
    this.storage = { s3, bucket };
  }

  /** The next callbacks get these answers, in order, instead of 200. */
  answerNext(...answers: ScriptedAnswer[]): void {
    this.script.push(...answers);
  }

  async start(): Promise<void> {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.post('/v1/jobs/:jobId/callback', (req, res) => {
      const scripted = this.script.shift();
      this.attempts.push({ at: Date.now(), status: scripted?.status ?? 200 });
      if (scripted) {
        res
          .status(scripted.status)
          .set(scripted.headers ?? {})
          .json({ scripted: true });
        return;
      }
      const batched = typeof req.body === 'object' && req.body !== null && 'events' in req.body;
      const parsed = batched ? TrainerEventBatch.safeParse(req.body) : TrainerEvent.safeParse(req.body);
      if (!parsed.success) {
        this.invalid.push(req.body);
        res.status(422).json({ issues: parsed.error.issues });
        return;
      }
      const events = 'events' in parsed.data ? parsed.data.events : [parsed.data];
      this.batches.push(events.length);
      for (const event of events) {
        this.accepted.push({
          jobId: String(req.params.jobId),
          event,
          authorization: req.get('authorization'),
          traceparent: req.get('traceparent'),
        });
      }
      const results = events.map((event) => ({ accepted: true, seq: event.seq }));
      res.json(batched ? { results } : results[0]);
      for (const wake of this.waiters.splice(0)) wake();
    });
    app.post('/v1/jobs/:jobId/storage-urls', async (req, res) => {
      const parsed = StorageUrlRequestBody.safeParse(req.body);
      if (!this.storage || !req.get('authorization') || !parsed.success) {
        res.status(this.storage ? 422 : 404).json({ detail: 'not served' });
        return;
      }
      const jobId = String(req.params.jobId);
      const request = parsed.data;
      this.storageRequests.push({ jobId, request });
      const attempt = Number(req.query.attempt ?? 1);
      const { s3, bucket } = this.storage;
      const key =
        request.method === 'GET'
          ? parseS3Uri(request.uri).key
          : `jobs/${jobId}/${attempt === 1 ? '' : `attempts/${attempt}/`}${request.name}`;
      const signed = await presignObjectUrl(
        s3,
        request.method === 'GET'
          ? { method: 'GET', bucket, key }
          : { method: 'PUT', bucket, key, bytes: request.bytes },
        300,
      );
      const body: StorageUrlResponseBody = {
        url: signed.url,
        uri: `s3://${bucket}/${key}`,
        expiresAt: signed.expiresAt.toISOString(),
      };
      res.json(body);
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(this.port, '127.0.0.1', (err?: Error) =>
        err ? reject(err) : resolve(listening),
      );
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Gone: connections are refused until `start` again (same port). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  events(jobId: string): TrainerEvent[] {
    return this.accepted.filter((r) => r.jobId === jobId).map((r) => r.event);
  }

  /** Waits until `done` holds for what was accepted. */
  async waitFor(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
