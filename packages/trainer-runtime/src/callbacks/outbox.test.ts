import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainerEvent } from '@vtp/shared-schemas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coalesce, Outbox } from './outbox.ts';

const jobId = '0b8e3a52-5a0c-4a53-9c39-3c0b1c7d3f4e';
const target = { url: 'http://127.0.0.1:9/v1/jobs/x/callback', token: 'callback-token-0123456789' };
const at = '2026-11-23T10:00:00.000Z';
const started = (seq: number): TrainerEvent => ({ seq, timestamp: at, type: 'started', totalEpochs: 3 });
const progress = (seq: number, epoch: number): TrainerEvent => ({
  seq,
  timestamp: at,
  type: 'progress',
  epoch,
  totalEpochs: 3,
  metrics: { loss: 1 / epoch },
});
const heartbeat = (seq: number): TrainerEvent => ({ seq, timestamp: at, type: 'heartbeat' });
const checkpoint = (seq: number, epoch: number): TrainerEvent => ({
  seq,
  timestamp: at,
  type: 'checkpoint',
  epoch,
  artifacts: [{ kind: 'last', uri: 's3://b/jobs/x/weights/last.pt', bytes: 10, epoch }],
});
const completed = (seq: number): TrainerEvent => ({
  seq,
  timestamp: at,
  type: 'completed',
  metrics: {},
  artifacts: [],
});

describe('Outbox on a real folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reloads appended events in seq order, without the delivered ones, in a new instance', async () => {
    const first = new Outbox(dir);
    await first.append(jobId, target, [started(1), checkpoint(2, 1)]);
    await first.append(jobId, target, [completed(4), checkpoint(3, 2)]);
    await first.markDone(jobId, [1]);

    const [backlog, ...others] = await new Outbox(dir).load();
    expect(others).toEqual([]);
    expect(backlog?.target).toEqual(target);
    expect(backlog?.events.map((e) => e.seq)).toEqual([2, 3, 4]);
  });

  it('survives a crash in the middle of an append: the torn line is skipped, the rest is intact', async () => {
    const outbox = new Outbox(dir);
    await outbox.append(jobId, target, [started(1), progress(2, 1)]);
    await appendFile(join(dir, `${jobId}.jsonl`), '{"event":{"seq":3,"timestamp":"2026-11-23T10:0');
    const [backlog] = await outbox.load();
    expect(backlog?.events.map((e) => e.seq)).toEqual([1, 2]);
    // And appending after the torn line still works: the new record starts on its own line.
    await outbox.append(jobId, target, [completed(4)]);
    const [after] = await outbox.load();
    expect(after?.events.map((e) => e.seq)).toEqual([1, 2, 4]);
  });

  it('keeps the callback token owner-only and deletes the file when asked', async () => {
    const outbox = new Outbox(dir);
    await outbox.append(jobId, target, [started(1)]);
    expect((await stat(join(dir, `${jobId}.jsonl`))).mode & 0o777).toBe(0o600);
    await outbox.remove(jobId);
    expect(await readdir(dir)).toEqual([]);
    expect(await outbox.load()).toEqual([]);
  });

  it('drops heartbeats under backlog, never state changes, artifacts or the epoch history', async () => {
    const outbox = new Outbox(dir);
    await outbox.append(jobId, target, [
      started(1),
      progress(2, 1),
      heartbeat(3),
      checkpoint(4, 1),
      progress(5, 2),
      heartbeat(6),
      progress(7, 3),
      checkpoint(8, 3),
      completed(9),
    ]);
    const [backlog] = await outbox.load();
    expect(backlog?.events.map((e) => `${e.seq}:${e.type}`)).toEqual([
      '1:started',
      '2:progress',
      '4:checkpoint',
      '5:progress',
      '7:progress',
      '8:checkpoint',
      '9:completed',
    ]);
    // Written as given: coalescing is applied on reading, so nothing on disk is ever rewritten.
    expect((await readFile(join(dir, `${jobId}.jsonl`), 'utf8')).trim().split('\n')).toHaveLength(10);
  });
});

describe('coalesce', () => {
  it('keeps every epoch and checkpoint of a long backlog, drops heartbeats, bounds logs to the newest 100', () => {
    const long: TrainerEvent[] = [];
    for (let epoch = 1; epoch <= 300; epoch++) {
      long.push(progress(long.length + 1, epoch));
      long.push(heartbeat(long.length + 1));
      long.push({
        seq: long.length + 1,
        timestamp: at,
        type: 'log',
        level: 'warn',
        message: `line ${epoch}`,
      });
      long.push(checkpoint(long.length + 1, epoch));
    }
    long.push(completed(long.length + 1));
    const kept = coalesce(long);
    expect(kept.filter((e) => e.type === 'progress')).toHaveLength(300);
    expect(kept.filter((e) => e.type === 'heartbeat')).toHaveLength(0);
    const logs = kept.filter((e) => e.type === 'log');
    expect(logs).toHaveLength(100);
    expect(logs[0]).toMatchObject({ message: 'line 201' });
    expect(kept.filter((e) => e.type === 'checkpoint')).toHaveLength(300);
    expect(kept.at(-1)?.type).toBe('completed');
    expect(kept.map((e) => e.seq)).toEqual([...kept.map((e) => e.seq)].sort((a, b) => a - b));
  });
});
