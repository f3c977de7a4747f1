import type { Request, Response } from 'express';
import type { JobEventNotifier } from './eventNotifier.ts';
import type { JobEventStore } from './jobEventStore.ts';
import { isFinished } from './jobLifecycle.ts';
import type { JobStore } from './jobStore.ts';

const KEEPALIVE_MS = 15_000;

/**
 * Serves a job's events as Server-Sent Events: history first (after `Last-Event-ID` or `after`), then live
 * events as they are stored, and ends once the job has ended and every event is sent, or when the backend
 * stops (the client reconnects with its Last-Event-ID, to this backend or another replica).
 */
export function streamJobEvents(
  stores: { jobs: JobStore; events: JobEventStore },
  notifier: JobEventNotifier,
  jobId: string,
  afterSeq: number,
  req: Request,
  res: Response,
  stopping: AbortSignal,
): void {
  const lastEventId = Number(req.get('last-event-id'));
  let last = Number.isInteger(lastEventId) && lastEventId > 0 ? lastEventId : afterSeq;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');

  let closed = false;
  let pumping = false;
  let again = false;
  const close = () => {
    if (closed) return;
    closed = true;
    stopping.removeEventListener('abort', close);
    unsubscribe();
    clearInterval(keepalive);
    res.end();
  };

  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        // Read the status before the events: if it is terminal here, every event up to the end is stored.
        const status = await stores.jobs.status(jobId);
        for (;;) {
          const events = await stores.events.list(jobId, last, 500);
          for (const event of events) {
            if (closed) return;
            res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
            last = event.seq;
          }
          if (events.length < 500) break;
        }
        if (!status || isFinished(status)) {
          res.write(`event: end\ndata: ${JSON.stringify({ status: status ?? null })}\n\n`);
          close();
          return;
        }
      } while (again && !closed);
    } catch {
      // The database is away: the stream stays open, and the next notification or poll tries again.
    } finally {
      pumping = false;
    }
  };

  const unsubscribe = notifier.subscribe(jobId, () => void pump());
  // Also a slow poll: a notification lost while the database connection was down is picked up here.
  const keepalive = setInterval(() => {
    res.write(': keepalive\n\n');
    void pump();
  }, KEEPALIVE_MS);
  req.on('close', close);
  if (stopping.aborted) close();
  else stopping.addEventListener('abort', close, { once: true });
  void pump();
}
