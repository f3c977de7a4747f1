// A lightweight trainer for the bench's scale rows: it speaks the trainer API the backend calls (readiness,
// start, status, cancel; the shared schemas) and the real callback protocol back, with no Python and no
// storage, so that thousands of trainings can run on one machine and only the backend's share of the work
// is measured.
import type { Server } from 'node:http';
import {
  type TrainerEvent,
  type TrainerReadiness,
  type Training,
  TrainingStartRequestBody,
} from '@vtp/shared-schemas';
import express from 'express';

/** What each training does once accepted; times in milliseconds. `hold` keeps it running until `finishAll`. */
export interface TrainingPlan {
  epochs: number;
  epochMs: number;
  heartbeatMs: number;
  hold: boolean;
}

type EventBody = Omit<TrainerEvent, 'seq' | 'timestamp'> & Record<string, unknown>;

class SimulatedTraining {
  readonly training: Training;
  private seq: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly spec: TrainingStartRequestBody;
  private readonly trainer: SimulatedTrainer;

  constructor(spec: TrainingStartRequestBody, trainer: SimulatedTrainer) {
    this.spec = spec;
    this.trainer = trainer;
    this.seq = spec.callback.firstSeq;
    this.training = {
      jobId: spec.jobId,
      attempt: spec.attempt,
      status: 'running',
      epoch: 0,
      totalEpochs: trainer.plan.epochs,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
      pendingEvents: 0,
    };
  }

  run(): void {
    const { epochs, epochMs, heartbeatMs, hold } = this.trainer.plan;
    this.report({ type: 'started', totalEpochs: epochs });
    this.timers.push(
      setInterval(() => this.report({ type: 'heartbeat', phase: 'training' }), heartbeatMs).unref(),
    );
    const epoch = () => {
      this.training.epoch += 1;
      this.report({
        type: 'progress',
        epoch: this.training.epoch,
        totalEpochs: epochs,
        metrics: { 'train/loss': 1 / this.training.epoch, 'val/top1': Math.min(100, this.training.epoch) },
      });
      if (this.training.epoch < epochs) this.timers.push(setTimeout(epoch, epochMs).unref());
      else if (!hold) this.end('completed');
    };
    this.timers.push(setTimeout(epoch, epochMs).unref());
  }

  /** Stops its clocks without a word to the backend (the bench is ending). */
  halt(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  end(type: 'completed' | 'cancelled'): void {
    if (this.training.status !== 'running') return;
    for (const timer of this.timers) clearTimeout(timer);
    this.training.status = type === 'completed' ? 'succeeded' : 'cancelled';
    this.training.finishedAt = new Date().toISOString();
    this.report(
      type === 'completed'
        ? { type, metrics: { 'val/top1': this.training.epoch }, artifacts: [] }
        : { type, artifacts: [] },
    );
  }

  /** Events go out one request at a time per training, in seq order, as a trainer's outbox sends them. */
  private report(event: EventBody): void {
    const body = { ...event, seq: this.seq++, timestamp: new Date().toISOString() };
    this.chain = this.chain.then(() => this.trainer.deliver(this.spec.callback, body));
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

export class SimulatedTrainer {
  plan: TrainingPlan = { epochs: 1, epochMs: 10, heartbeatMs: 5000, hold: false };
  /** performance.now() when each job's start request arrived. */
  readonly acceptedAt = new Map<string, number>();
  private readonly acceptWaiters = new Map<string, (at: number) => void>();
  /** Round-trip milliseconds of each callback request while `recording`. */
  readonly callbackLatencies: number[] = [];
  recording = false;
  failedCallbacks = 0;
  private readonly trainings = new Map<string, SimulatedTraining>();
  private server: Server | undefined;
  private readonly token: string;

  constructor(token: string) {
    this.token = token;
  }

  async start(): Promise<string> {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.get('/readyz', (_req, res) => {
      res.json({
        ready: true,
        framework: 'timm',
        python: { executable: 'none (simulated)', version: null },
        frameworkVersion: null,
        torchVersion: null,
        activeTrainings: this.active(),
        maxConcurrentTrainings: 1_000_000,
      } satisfies TrainerReadiness);
    });
    app.use('/v1', (req, res, next) => {
      if (req.headers.authorization !== `Bearer ${this.token}`) res.status(401).end();
      else next();
    });
    app.post('/v1/trainings', (req, res) => {
      const parsed = TrainingStartRequestBody.safeParse(req.body);
      if (!parsed.success) {
        res.status(422).json({ issues: parsed.error.issues });
        return;
      }
      const existing = this.trainings.get(parsed.data.jobId);
      if (existing) {
        res.status(200).json(existing.training);
        return;
      }
      const at = performance.now();
      this.acceptedAt.set(parsed.data.jobId, at);
      this.acceptWaiters.get(parsed.data.jobId)?.(at);
      const training = new SimulatedTraining(parsed.data, this);
      this.trainings.set(parsed.data.jobId, training);
      res.status(202).json(training.training);
      training.run();
    });
    app.get('/v1/trainings/:jobId', (req, res) => {
      const training = this.trainings.get(req.params.jobId);
      if (training) res.json(training.training);
      else res.status(404).end();
    });
    app.post('/v1/trainings/:jobId/cancel', (req, res) => {
      const training = this.trainings.get(req.params.jobId);
      if (!training) {
        res.status(404).end();
        return;
      }
      training.end('cancelled');
      res.status(202).json(training.training);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  /** When the job's start request arrived (performance.now()), now or once it does. */
  whenAccepted(jobId: string): Promise<number> {
    const at = this.acceptedAt.get(jobId);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.acceptWaiters.set(jobId, resolve));
  }

  active(): number {
    let n = 0;
    for (const t of this.trainings.values()) if (t.training.status === 'running') n += 1;
    return n;
  }

  /** Ends every held training with `completed` and waits until each one's events are delivered. */
  async finishAll(): Promise<void> {
    for (const t of this.trainings.values()) t.end('completed');
    await Promise.all([...this.trainings.values()].map((t) => t.settled()));
  }

  async deliver(
    callback: TrainingStartRequestBody['callback'],
    event: Record<string, unknown>,
  ): Promise<void> {
    const started = performance.now();
    try {
      const res = await fetch(callback.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${callback.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
      await res.arrayBuffer();
      if (res.status !== 200) this.failedCallbacks += 1;
    } catch {
      this.failedCallbacks += 1;
    }
    if (this.recording) this.callbackLatencies.push(performance.now() - started);
  }

  async stop(): Promise<void> {
    for (const t of this.trainings.values()) t.halt();
    await new Promise((resolve) => this.server?.close(resolve) ?? resolve(undefined));
  }
}
