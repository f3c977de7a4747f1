import { describe, expect, it } from 'vitest';
import { type RunnerEnding, runnerOutcome } from './runnerOutcome.ts';

const ending = (overrides: Partial<RunnerEnding>): RunnerEnding => ({
  exit: { code: 0, signal: null },
  terminal: undefined,
  stopReason: undefined,
  maxDurationSeconds: undefined,
  stall: undefined,
  logTail: 'epoch 3/10 ...',
  ...overrides,
});
const files = [
  { kind: 'last' as const, path: '/o/snapshots/1.last.last.pt', sha256: 'a'.repeat(64), bytes: 10, epoch: 2 },
];

describe('runnerOutcome', () => {
  it('is completed when the runner said so, even if a stop came too late', () => {
    const completed = { type: 'completed' as const, metrics: { m: 1 }, files, warnings: ['w'] };
    expect(runnerOutcome(ending({ terminal: completed, stopReason: 'cancel' }))).toEqual({
      type: 'completed',
      metrics: { m: 1 },
      files,
      warnings: ['w'],
    });
  });

  it('passes the runner error code and message through', () => {
    const error = { type: 'error' as const, code: 'invalid_dataset' as const, message: 'bad label' };
    expect(runnerOutcome(ending({ exit: { code: 1, signal: null }, terminal: error }))).toEqual({
      type: 'failed',
      error: { code: 'invalid_dataset', message: 'bad label' },
    });
  });

  it('reports SIGKILL without a word as out of memory unless the kernel counted no OOM kill, another signal as killed, quoting the log', () => {
    const oom = runnerOutcome(ending({ exit: { code: null, signal: 'SIGKILL' } }));
    expect(oom).toMatchObject({ type: 'failed', error: { code: 'out_of_memory' } });
    expect(oom.type === 'failed' && oom.error.message).toContain('epoch 3/10');
    const counted = runnerOutcome(ending({ exit: { code: null, signal: 'SIGKILL' }, oomKilled: true }));
    expect(counted.type === 'failed' && counted.error.message).toContain(
      'out-of-memory killer: give the job',
    );
    const killed = runnerOutcome(ending({ exit: { code: null, signal: 'SIGKILL' }, oomKilled: false }));
    expect(killed).toMatchObject({ type: 'failed', error: { code: 'killed' } });
    expect(killed.type === 'failed' && killed.error.message).toContain('not by the out-of-memory killer');
    expect(runnerOutcome(ending({ exit: { code: null, signal: 'SIGSEGV' } }))).toMatchObject({
      error: { code: 'killed' },
    });
  });

  it('names the time limit when the trainer stopped the runner for it', () => {
    const cancelled = { type: 'cancelled' as const, epoch: 2, files };
    expect(
      runnerOutcome(
        ending({
          exit: { code: 130, signal: null },
          terminal: cancelled,
          stopReason: 'time_limit',
          maxDurationSeconds: 60,
        }),
      ),
    ).toEqual({
      type: 'failed',
      error: {
        code: 'time_limit_exceeded',
        message: 'The training ran past its limit of 60 seconds and was stopped',
      },
    });
  });

  it('names the stall the watchdog saw when it stopped the training', () => {
    const stall = 'No progress while training for 3600s (its limit is 1800s); the training was stopped';
    expect(
      runnerOutcome(ending({ exit: { code: null, signal: 'SIGKILL' }, stopReason: 'stalled', stall })),
    ).toEqual({ type: 'failed', error: { code: 'stalled', message: stall } });
  });

  it('is cancelled with the named checkpoints, or with none named when the runner had to be killed', () => {
    const cancelled = { type: 'cancelled' as const, epoch: 2, files };
    expect(
      runnerOutcome(ending({ exit: { code: 130, signal: null }, terminal: cancelled, stopReason: 'cancel' })),
    ).toEqual({
      type: 'cancelled',
      files,
    });
    expect(runnerOutcome(ending({ exit: { code: null, signal: 'SIGKILL' }, stopReason: 'cancel' }))).toEqual({
      type: 'cancelled',
      files: undefined,
    });
  });

  it('fails a runner that exits without any result', () => {
    expect(runnerOutcome(ending({ exit: { code: 0, signal: null } }))).toMatchObject({
      error: { code: 'framework_error' },
    });
    expect(runnerOutcome(ending({ exit: { code: 3, signal: null } }))).toMatchObject({
      error: { code: 'framework_error', message: expect.stringContaining('code 3') },
    });
    expect(
      runnerOutcome(
        ending({ exit: { code: null, signal: null, spawnError: new Error('spawn /nope ENOENT') } }),
      ),
    ).toMatchObject({ error: { code: 'internal_error', message: expect.stringContaining('/nope') } });
  });
});
