import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrainerEvent } from '@vtp/shared-schemas';
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
 * A real HTTP server standing in for the backend's callback endpoint: it checks each body against the
 * TrainerEvent contract, records what it accepted, and can be told to fail (scripted statuses) or to go away
 * (stop: connections refused) and come back on the same port.
 */
export class CallbackServer {
  readonly accepted: ReceivedEvent[] = [];
  /** Bodies that broke the contract: a test expects none. */
  readonly invalid: unknown[] = [];
  /** Every request, answered or not, with when it came and the status it got. */
  readonly attempts: Array<{ at: number; status: number }> = [];
  port = 0;
  private readonly script: ScriptedAnswer[] = [];
  private server: Server | undefined;
  private waiters: Array<() => void> = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  callbackUrl(jobId: string): string {
    return `${this.url}/v1/jobs/${jobId}/callback`;
  }

  /** The next requests get these answers, in order, instead of 200. */
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
      const event = TrainerEvent.safeParse(req.body);
      if (!event.success) {
        this.invalid.push(req.body);
        res.status(422).json({ issues: event.error.issues });
        return;
      }
      this.accepted.push({
        jobId: String(req.params.jobId),
        event: event.data,
        authorization: req.get('authorization'),
        traceparent: req.get('traceparent'),
      });
      res.json({ accepted: true, seq: event.data.seq });
      for (const wake of this.waiters.splice(0)) wake();
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
