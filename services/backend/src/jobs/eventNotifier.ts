import type { Logger } from '@vtp/service-kit';
import pg from 'pg';

/** Filled by triggers on jobs and job_events (see the initial migration). */
const JOB_EVENTS_CHANNEL = 'vtp_job_events';

type Listener = () => void;

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * Wakes live event streams when any backend replica stores an event for their job (PostgreSQL
 * LISTEN/NOTIFY), so a stream served by one replica sees callbacks received by another.
 */
export class JobEventNotifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private client: pg.Client | undefined;
  private stopped = false;
  private readonly url: string;
  private readonly logger: Logger;

  constructor(url: string, logger: Logger) {
    this.url = url;
    this.logger = logger;
  }

  /** Connects and listens; once started, a lost connection is re-established for as long as it takes. */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.payload) for (const listener of this.listeners.get(msg.payload) ?? []) listener();
    });
    const lost = (err?: Error) => {
      if (this.stopped || this.client !== client) return;
      this.client = undefined;
      this.logger.warn({ err }, 'event notifier connection lost; reconnecting');
      this.reconnect(0);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    await client.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    this.client = client;
    // Streams may have missed notifications while disconnected: wake them all to re-read.
    for (const set of this.listeners.values()) for (const listener of set) listener();
  }

  private reconnect(attempt: number): void {
    if (this.stopped) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** attempt);
    setTimeout(() => {
      if (this.stopped) return;
      this.start().catch((err) => {
        this.logger.warn({ err, attempt: attempt + 1 }, 'event notifier could not reconnect; trying again');
        this.reconnect(attempt + 1);
      });
    }, delay).unref();
  }

  subscribe(jobId: string, listener: Listener): () => void {
    const set = this.listeners.get(jobId) ?? new Set();
    set.add(listener);
    this.listeners.set(jobId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(jobId);
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }
}
