import type { Logger } from '@vtp/service-kit';
import {
  MAX_CALLBACK_BATCH_BYTES,
  MAX_CALLBACK_BATCH_EVENTS,
  type TrainerEvent,
  terminalEventTypes,
} from '@vtp/shared-schemas';
import type { CallbackSender } from './deliveryPolicy.ts';
import { type CallbackTarget, coalesce, type Outbox } from './outbox.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as a training reports it; delivery numbers and stamps it. */
export type NewTrainerEvent = DistributiveOmit<TrainerEvent, 'seq' | 'timestamp'>;

export interface RedeliveryOptions {
  /** Pause after a failed delivery round, doubling up to maxDelayMs while the backend stays away. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_REDELIVERY: RedeliveryOptions = { initialDelayMs: 1000, maxDelayMs: 30_000 };

const isTerminal = (event: TrainerEvent) => (terminalEventTypes as readonly string[]).includes(event.type);

/**
 * Delivers each job's events to its callback URL, in seq order, without ever making the training wait. What
 * waits goes in one request (a batch, stored by the backend in one transaction). Events live in memory while
 * the backend answers; the first failed attempt moves the job's queue to the outbox on disk (and every later
 * event with it) until the backlog is delivered. Under backlog, heartbeats are dropped and logs bounded (see
 * `coalesce`); state changes, epochs and artifacts never are.
 */
export class CallbackDelivery {
  private readonly sender: CallbackSender;
  private readonly outbox: Outbox;
  private readonly logger: Logger;
  private readonly redelivery: RedeliveryOptions;
  private readonly channels = new Map<string, JobChannel>();
  private readonly stop = new AbortController();
  private idleWaiters: Array<() => void> = [];

  constructor(deps: {
    sender: CallbackSender;
    outbox: Outbox;
    logger: Logger;
    redelivery?: RedeliveryOptions;
  }) {
    this.sender = deps.sender;
    this.outbox = deps.outbox;
    this.logger = deps.logger;
    this.redelivery = deps.redelivery ?? DEFAULT_REDELIVERY;
  }

  /** Takes up what a previous process left in the outbox; returns how many events wait there. */
  async recover(): Promise<number> {
    let total = 0;
    for (const backlog of await this.outbox.load()) {
      if (backlog.events.length === 0) {
        await this.outbox.remove(backlog.jobId);
        continue;
      }
      const channel = this.channelFor(backlog.jobId, backlog.target);
      channel.restore(backlog.events);
      total += backlog.events.length;
      this.logger.info({ job_id: backlog.jobId, events: backlog.events.length }, 'redelivering outbox');
      channel.kick();
    }
    return total;
  }

  /** Numbers the event, queues it and returns at once; the event is delivered in the background. */
  send(jobId: string, target: CallbackTarget, event: NewTrainerEvent): TrainerEvent {
    const channel = this.channelFor(jobId, target);
    const numbered = {
      ...event,
      seq: channel.nextSeq(),
      timestamp: new Date().toISOString(),
    } as TrainerEvent;
    channel.enqueue(numbered);
    return numbered;
  }

  /** Events not yet taken by the backend: of one job, or of all. */
  pending(jobId?: string): number {
    if (jobId !== undefined) return this.channels.get(jobId)?.size ?? 0;
    let total = 0;
    for (const channel of this.channels.values()) total += channel.size;
    return total;
  }

  /** When the oldest undelivered event was reported; undefined when none waits. */
  oldestPendingAt(): Date | undefined {
    let oldest: number | undefined;
    for (const channel of this.channels.values()) {
      const at = channel.oldestAt();
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
    return oldest === undefined ? undefined : new Date(oldest);
  }

  /** Resolves true once nothing is pending, or false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.pending() === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops delivering and puts every undelivered event in the outbox, for this or the next process. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.all([...this.channels.values()].map((channel) => channel.close()));
  }

  private channelFor(jobId: string, target: CallbackTarget): JobChannel {
    let channel = this.channels.get(jobId);
    if (!channel) {
      channel = new JobChannel(jobId, target, {
        sender: this.sender,
        outbox: this.outbox,
        logger: this.logger.child({ job_id: jobId }),
        redelivery: this.redelivery,
        signal: this.stop.signal,
        onEmpty: (finished) => this.emptied(jobId, finished),
      });
      this.channels.set(jobId, channel);
    }
    return channel;
  }

  private emptied(jobId: string, finished: boolean): void {
    // A finished job's channel is done for good; forget it.
    if (finished) this.channels.delete(jobId);
    if (this.pending() === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}

interface ChannelDeps {
  sender: CallbackSender;
  outbox: Outbox;
  logger: Logger;
  redelivery: RedeliveryOptions;
  signal: AbortSignal;
  onEmpty(finished: boolean): void;
}

/**
 * The head of the queue as one request: every event waiting, up to the batch limits (a backlog drains in a few
 * requests, not one per event).
 */
function nextBatch(queue: readonly TrainerEvent[]): TrainerEvent[] {
  const batch: TrainerEvent[] = [];
  let bytes = 0;
  for (const event of queue) {
    bytes += JSON.stringify(event).length + 1;
    if (batch.length > 0 && (batch.length >= MAX_CALLBACK_BATCH_EVENTS || bytes > MAX_CALLBACK_BATCH_BYTES))
      break;
    batch.push(event);
  }
  return batch;
}

/** One job's ordered queue and the one loop that sends it. */
class JobChannel {
  private readonly jobId: string;
  private readonly target: CallbackTarget;
  private readonly deps: ChannelDeps;
  /** Undelivered events in seq order; the head (one event, or a batch from it) is what is being sent. */
  private queue: TrainerEvent[] = [];
  /** True while the outbox file holds everything in `queue`. */
  private onDisk = false;
  private lastSeq = 0;
  private pumping: Promise<void> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(jobId: string, target: CallbackTarget, deps: ChannelDeps) {
    this.jobId = jobId;
    this.target = target;
    this.deps = deps;
    this.lastSeq = (target.firstSeq ?? 1) - 1;
  }

  get size(): number {
    return this.queue.length;
  }

  /** The timestamp (ms) of the oldest event waiting; the queue is in seq order, so it is the head's. */
  oldestAt(): number | undefined {
    const head = this.queue[0];
    return head ? Date.parse(head.timestamp) : undefined;
  }

  nextSeq(): number {
    this.lastSeq += 1;
    return this.lastSeq;
  }

  restore(events: TrainerEvent[]): void {
    this.queue = [...events];
    this.onDisk = true;
    this.lastSeq = Math.max(this.lastSeq, ...events.map((e) => e.seq));
  }

  enqueue(event: TrainerEvent): void {
    if (this.onDisk) {
      if (event.type === 'heartbeat') return; // a backlog has no use for "still alive"
      this.queue.push(event);
      this.coalesceWaiting();
      this.save([event]);
    } else {
      this.queue.push(event);
    }
    // Reported while the trainer stops (a runner's last words): nothing will send it, so it goes to disk.
    if (this.deps.signal.aborted) this.spill('the trainer is stopping');
    this.kick();
  }

  kick(): void {
    if (this.pumping || this.deps.signal.aborted) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  /** Puts the queue on disk. The in-flight attempt is aborted, not awaited: its retry pause can be long. */
  async close(): Promise<void> {
    this.spill('the trainer is stopping');
    await this.saving;
  }

  private async pump(): Promise<void> {
    const { sender, logger, redelivery, signal } = this.deps;
    let delay = redelivery.initialDelayMs;
    // After a refused batch its events go one by one, so only the one at fault is dropped.
    let alone = 0;
    while (this.queue.length > 0 && !signal.aborted) {
      const batch = alone > 0 ? this.queue.slice(0, 1) : nextBatch(this.queue);
      const body = batch.length === 1 ? batch[0] : { events: batch };
      const outcome = await sender.send(this.target, body, (reason) => this.spill(reason), signal);
      if (signal.aborted) return;
      if (outcome.kind === 'unavailable') {
        logger.debug(
          { seq: batch[0]?.seq, events: batch.length, reason: outcome.reason },
          'callback not delivered; retrying later',
        );
        await sleep(Math.max(delay, outcome.retryAfterMs ?? 0), signal);
        delay = Math.min(delay * 2, redelivery.maxDelayMs);
        continue;
      }
      delay = redelivery.initialDelayMs;
      if (outcome.kind === 'rejected' && batch.length > 1 && outcome.status !== 401) {
        alone = batch.length;
        continue;
      }
      if (outcome.kind === 'rejected') {
        for (const event of batch)
          logger.error(
            { seq: event.seq, type: event.type, status: outcome.status, body: outcome.body },
            'backend refused a callback event; dropped',
          );
      }
      alone = Math.max(0, alone - batch.length);
      this.queue.splice(0, batch.length);
      this.settled(batch);
    }
  }

  private settled(events: TrainerEvent[]): void {
    const last = events.at(-1) as TrainerEvent;
    if (this.onDisk) {
      if (this.queue.length === 0) {
        this.onDisk = false;
        this.saving = this.saving
          .then(() => this.deps.outbox.remove(this.jobId))
          .catch((err) => this.saveFailed(err));
        this.deps.logger.info('callback backlog delivered');
      } else {
        const seqs = events.map((e) => e.seq);
        this.saving = this.saving
          .then(() => this.deps.outbox.markDone(this.jobId, seqs))
          .catch((err) => this.saveFailed(err));
      }
    }
    if (this.queue.length === 0) this.deps.onEmpty(isTerminal(last));
  }

  /** Moves the queue to the outbox (once per backlog): from now on events wait on disk. */
  private spill(reason: string): void {
    if (this.onDisk || this.queue.length === 0) return;
    this.onDisk = true;
    this.coalesceWaiting();
    this.deps.logger.warn(
      { reason, events: this.queue.length },
      'backend unreachable; callback events kept in the outbox',
    );
    this.save(coalesce(this.queue));
  }

  /** Coalesces all but the head, which may be in flight and must stay where it is. */
  private coalesceWaiting(): void {
    const [head, ...waiting] = this.queue;
    if (head) this.queue = [head, ...coalesce(waiting)];
  }

  private save(events: TrainerEvent[]): void {
    this.saving = this.saving
      .then(() => this.deps.outbox.append(this.jobId, this.target, events))
      .catch((err) => this.saveFailed(err));
  }

  private saveFailed(err: unknown): void {
    this.deps.logger.error(
      { err },
      'cannot write the callback outbox; undelivered events live only in memory',
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
