import type { Logger } from '@vtp/service-kit';
import pg from 'pg';

/** Filled by triggers on jobs and job_events (see the initial migration). */
const JOB_EVENTS_CHANNEL = 'vtp_job_events';

type Listener = () => void;

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

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.payload) for (const listener of this.listeners.get(msg.payload) ?? []) listener();
    });
    client.on('error', (err) => {
      this.logger.warn({ err }, 'event notifier connection lost; reconnecting');
      this.client = undefined;
      if (!this.stopped) setTimeout(() => void this.start().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    this.client = client;
    // Streams may have missed notifications while disconnected: wake them all to re-read.
    for (const set of this.listeners.values()) for (const listener of set) listener();
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
