import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runnerHelperDir } from '../paths.ts';
import type { RunnerEvent } from './protocol.ts';
import { RunnerProcess } from './runnerProcess.ts';

const fakeRunner = fileURLToPath(new URL('../../test/fake_runner.py', import.meta.url));

/**
 * Polls process.kill(target, 0) (a negative target is a process group) until nothing answers: killed orphans
 * take a moment to be reaped by init.
 */
async function vanished(target: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      process.kill(target, 0);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** The process group of `pid`, from /proc. */
async function groupOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('RunnerProcess with a fake runner speaking the protocol', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-runner-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function start(hyperparameters: Record<string, unknown>, python = 'python3') {
    const configFile = join(dir, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        jobId: 'j',
        datasetDir: dir,
        outputDir: dir,
        snapshotDir: join(dir, 'snapshots'),
        hyperparameters: { epochs: 2, epochSeconds: 0, ...hyperparameters },
      }),
    );
    const events: RunnerEvent[] = [];
    const stray: string[] = [];
    const stderr: Buffer[] = [];
    const pidFile = join(dir, 'pids');
    const runner = new RunnerProcess(
      {
        python,
        script: fakeRunner,
        configFile,
        cwd: dir,
        env: { ...process.env, FAKE_RUNNER_PID_FILE: pidFile, PYTHONPATH: runnerHelperDir },
      },
      { event: (e) => events.push(e), stray: (l) => stray.push(l), stderr: (c) => stderr.push(c) },
    );
    const pids = async () => {
      while (events.length === 0) await new Promise((r) => setTimeout(r, 20));
      const [runnerPid, childPid] = (await readFile(pidFile, 'utf8')).split(' ').map(Number);
      return { runnerPid: runnerPid!, childPid: childPid! };
    };
    return { runner, events, stray, log: () => Buffer.concat(stderr).toString(), pids };
  }

  it('reads the protocol in order and the log from stderr; the runner child goes with it', async () => {
    const { runner, events, log, pids } = await start({ behaviour: 'complete' });
    const { runnerPid } = await pids();
    expect(await runner.exited).toEqual({ code: 0, signal: null });
    expect(events.map((e) => e.type)).toEqual([
      'started',
      'epoch',
      'checkpoint',
      'epoch',
      'checkpoint',
      'completed',
    ]);
    expect(log()).toContain('epoch 2 done');
    // The `sleep` the runner left behind was in its group, and the group is gone.
    expect(await vanished(-runnerPid)).toBe(true);
  });

  it('cancel: SIGTERM to the runner alone (its workers serve it to the end), it reports and exits 130, nothing of it survives', async () => {
    const { runner, events, log, pids } = await start({
      behaviour: 'complete',
      epochs: 1000,
      epochSeconds: 0.2,
    });
    const { runnerPid, childPid } = await pids();
    expect(runner.pid).toBe(runnerPid);
    expect(await groupOf(runnerPid)).toBe(runnerPid); // its own group...
    expect(await groupOf(childPid)).toBe(runnerPid); // ...which its child shares
    const exit = await runner.terminate(10_000);
    expect(exit).toEqual({ code: 130, signal: null });
    expect(events.at(-1)?.type).toBe('cancelled');
    expect(log()).toContain('worker alive when the runner stopped');
    expect(await vanished(-runnerPid)).toBe(true);
    expect(await vanished(childPid)).toBe(true);
  });

  it('a runner that ignores SIGTERM is SIGKILLed, with its group, after the grace period', async () => {
    const { runner, pids } = await start({ behaviour: 'ignore-sigterm', epochs: 1000, epochSeconds: 0.2 });
    const { runnerPid } = await pids();
    const started = Date.now();
    expect(await runner.terminate(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(await vanished(-runnerPid)).toBe(true);
  });

  it('keeps going past stray stdout lines, passing them on as log', async () => {
    const { runner, events, stray } = await start({ behaviour: 'junk', epochs: 1 });
    await runner.exited;
    expect(stray).toEqual(['this is not a protocol line', '{"type": "epoch", "partial json']);
    expect(events.at(-1)?.type).toBe('completed');
  });

  it('reports an interpreter that does not exist instead of throwing', async () => {
    const { runner } = await start({ behaviour: 'complete' }, join(dir, 'no-such-python'));
    const exit = await runner.exited;
    expect(exit.spawnError?.message).toMatch(/ENOENT/);
  });
});
