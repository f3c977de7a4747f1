import { databaseUnavailable, POOL_WAIT_MS } from '../db/database.ts';
import type { JobEventStore, RoutineReport, RoutineReportRequest } from './jobEventStore.ts';

interface Waiting {
  request: RoutineReportRequest;
  resolve(report: RoutineReport | undefined): void;
  reject(err: unknown): void;
  /**
   * Gives up on the report after as long as a request waits for a pooled connection: statements stuck on a hung
   * database must not hold the reports behind them for ever; they are answered 503, as any request that finds
   * the database away.
   */
  timer: NodeJS.Timeout;
}

/** Statements of routine reports running at once: one fills while the other runs. */
const IN_FLIGHT = 2;
/** Reports in one statement, to bound its size and how long its rows stay locked. */
const MAX_GROUP = 100;

/**
 * Group commit for routine reports: a report that arrives while the statements in flight run waits for the next
 * one, with every other report that arrived meanwhile, so a busy backend stores many trainers' reports in one
 * statement and one commit, and an idle one sends each at once. A statement holds at most one report per job (a
 * job's later report waits for a later statement, which its row lock orders after the first; the effects only
 * ever move a job forwards, whatever order its reports take).
 */
export class RoutineReportQueue {
  private readonly store: JobEventStore;
  private waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(store: JobEventStore) {
    this.store = store;
  }

  /** Stores one job's routine report; undefined when the job is not running under its token. */
  submit(request: RoutineReportRequest): Promise<RoutineReport | undefined> {
    return new Promise((resolve, reject) => {
      const waiting: Waiting = {
        request,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting = this.waiting.filter((other) => other !== waiting);
          reject(databaseUnavailable());
        }, POOL_WAIT_MS),
      };
      this.waiting.push(waiting);
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight >= IN_FLIGHT || this.waiting.length === 0) return;
    const group: Waiting[] = [];
    const later: Waiting[] = [];
    const jobs = new Set<string>();
    for (const waiting of this.waiting) {
      if (group.length < MAX_GROUP && !jobs.has(waiting.request.jobId)) {
        jobs.add(waiting.request.jobId);
        clearTimeout(waiting.timer);
        group.push(waiting);
      } else later.push(waiting);
    }
    this.waiting = later;
    this.inFlight++;
    void this.run(group).finally(() => {
      this.inFlight--;
      this.next();
    });
  }

  private async run(group: Waiting[]): Promise<void> {
    try {
      const reports = await this.store.storeRoutine(group.map((waiting) => waiting.request));
      for (const [i, waiting] of group.entries()) waiting.resolve(reports[i]);
    } catch (err) {
      // A value the database refuses (SQLSTATE class 22) belongs to one report: each goes again alone, so only
      // its sender hears of it. Anything else (the database away) is every report's answer.
      if (group.length === 1 || !isDataException(err)) {
        for (const waiting of group) waiting.reject(err);
        return;
      }
      for (const waiting of group) {
        await this.store.storeRoutine([waiting.request]).then(
          ([report]) => waiting.resolve(report),
          (alone: unknown) => waiting.reject(alone),
        );
      }
    }
  }
}

function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}
