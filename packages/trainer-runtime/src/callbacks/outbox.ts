import { type FileHandle, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TrainerEvent } from '@vtp/shared-schemas';
import { z } from 'zod';

export interface CallbackTarget {
  url: string;
  token: string;
  /** The seq of the first event (an attempt after the first continues its job's numbering); 1 when absent. */
  firstSeq?: number;
  /** W3C trace context of the training, so the backend's handling joins the job's trace. */
  traceHeaders?: Record<string, string>;
}

export interface OutboxBacklog {
  jobId: string;
  target: CallbackTarget;
  /** Undelivered events in seq order, coalesced. */
  events: TrainerEvent[];
}

/** One line of a job's outbox file. */
const OutboxRecord = z.union([
  z.object({
    target: z.object({
      url: z.string(),
      token: z.string(),
      firstSeq: z.number().int().min(1).optional(),
      traceHeaders: z.record(z.string(), z.string()).optional(),
    }),
  }),
  z.object({ event: TrainerEvent }),
  z.object({ done: z.number().int() }),
]);
type OutboxRecord = z.infer<typeof OutboxRecord>;

const FILE_SUFFIX = '.jsonl';
/** Log events kept per job under backlog; older ones are dropped first. Every epoch's progress is kept. */
const MAX_BACKLOG_LOGS = 100;

/**
 * Callback events the backend has not taken yet, on disk: one append-only file per job (its callback target,
 * then events, then `done` marks), fsync'd before an append returns, so they survive a crash or a restart.
 * A file is deleted once everything in it is delivered.
 */
export class Outbox {
  readonly dir: string;
  private readonly writes = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Appends events (and, for a new file, the target first); resolves once they are on disk. */
  append(jobId: string, target: CallbackTarget, events: readonly TrainerEvent[]): Promise<void> {
    return this.serialized(jobId, async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const file = this.fileOf(jobId);
      // The file holds the job's callback token: owner-only.
      const handle = await open(file, 'a+', 0o600);
      let created: boolean;
      try {
        const { size } = await handle.stat();
        created = size === 0;
        const records: OutboxRecord[] = created ? [{ target }] : [];
        for (const event of events) records.push({ event });
        // After a crash mid-append the file ends in a torn line: start on a fresh one, or both would be lost.
        const lead = created || (await lastByte(handle, size)) === 0x0a ? '' : '\n';
        await handle.appendFile(lead + records.map((r) => `${JSON.stringify(r)}\n`).join(''));
        await handle.sync();
      } finally {
        await handle.close();
      }
      // A new file's name is only durable once its folder is synced too.
      if (created) await syncDirectory(this.dir);
    });
  }

  /**
   * Marks events delivered (or given up on). Not fsync'd: losing a mark only means the event is sent again,
   * and the backend ignores a seq it already has.
   */
  markDone(jobId: string, seqs: readonly number[]): Promise<void> {
    return this.serialized(jobId, async () => {
      const handle = await open(this.fileOf(jobId), 'a+', 0o600);
      try {
        const { size } = await handle.stat();
        const lead = size === 0 || (await lastByte(handle, size)) === 0x0a ? '' : '\n';
        const marks = seqs.map((seq) => `${JSON.stringify({ done: seq } satisfies OutboxRecord)}\n`);
        await handle.appendFile(lead + marks.join(''));
      } finally {
        await handle.close();
      }
    });
  }

  remove(jobId: string): Promise<void> {
    return this.serialized(jobId, () => rm(this.fileOf(jobId), { force: true }));
  }

  /** Everything a previous process (or this one) left undelivered. */
  async load(): Promise<OutboxBacklog[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const backlogs: OutboxBacklog[] = [];
    for (const name of names.filter((n) => n.endsWith(FILE_SUFFIX)).sort()) {
      const jobId = name.slice(0, -FILE_SUFFIX.length);
      const backlog = parseOutboxFile(jobId, await readFile(join(this.dir, name), 'utf8'));
      // A file without its target line holds nothing that could ever be sent.
      if (backlog) backlogs.push(backlog);
      else await this.remove(jobId);
    }
    return backlogs;
  }

  private fileOf(jobId: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(jobId)) throw new Error(`Not a job id: ${jobId}`);
    return join(this.dir, `${jobId}${FILE_SUFFIX}`);
  }

  private serialized(jobId: string, write: () => Promise<void>): Promise<void> {
    const next = (this.writes.get(jobId) ?? Promise.resolve()).then(write);
    const settled = next.catch(() => undefined);
    this.writes.set(jobId, settled);
    void settled.then(() => {
      if (this.writes.get(jobId) === settled) this.writes.delete(jobId);
    });
    return next;
  }
}

/**
 * Rebuilds a job's backlog from its file. A torn last line (a crash in the middle of an append) and records
 * that do not parse are skipped: what was fsync'd before them is intact.
 */
export function parseOutboxFile(jobId: string, text: string): OutboxBacklog | undefined {
  let target: CallbackTarget | undefined;
  const events = new Map<number, TrainerEvent>();
  const done = new Set<number>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let record: OutboxRecord;
    try {
      const parsed = OutboxRecord.safeParse(JSON.parse(line));
      if (!parsed.success) continue;
      record = parsed.data;
    } catch {
      continue;
    }
    if ('target' in record) target ??= record.target;
    else if ('event' in record) events.set(record.event.seq, record.event);
    else done.add(record.done);
  }
  if (!target) return undefined;
  const pending = [...events.values()].filter((e) => !done.has(e.seq)).sort((a, b) => a.seq - b.seq);
  return { jobId, target, events: coalesce(pending) };
}

/**
 * What a backlog keeps: every event that changes the job's state, carries artifacts or records an epoch
 * (started, progress, checkpoint, completed, failed, cancelled); the newest logs up to a bound; no heartbeats,
 * which say nothing once the backend is back. Batched delivery drains even a long backlog in seconds.
 */
export function coalesce(events: readonly TrainerEvent[]): TrainerEvent[] {
  const logs = new Set(events.filter((e) => e.type === 'log').slice(-MAX_BACKLOG_LOGS));
  return events.filter((event) => {
    if (event.type === 'heartbeat') return false;
    if (event.type === 'log') return logs.has(event);
    return true;
  });
}

async function lastByte(handle: FileHandle, size: number): Promise<number | undefined> {
  const byte = Buffer.alloc(1);
  const { bytesRead } = await handle.read(byte, 0, 1, size - 1);
  return bytesRead === 1 ? byte[0] : undefined;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
