import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@vtp/service-kit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeRunner, fakeRunnerLaunch } from '../../test/fakeRunnerLaunch.ts';
import { runnerHelperDir } from '../paths.ts';
import { signalProcess } from './processGroup.ts';
import type { RunnerEvent } from './protocol.ts';
import { coldRunners, type RunnerLauncher, RunnerProcess } from './runnerProcess.ts';
import { RunnerZygote } from './runnerZygote.ts';

const fakePreload = fileURLToPath(new URL('../../test/fake_preload.py', import.meta.url));
const threadOnSignalPreload = fileURLToPath(
  new URL('../../test/thread_on_signal_preload.py', import.meta.url),
);
const zygoteHost = fileURLToPath(new URL('../../test/zygoteHost.ts', import.meta.url));

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

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]. */
async function statOf(pid: number): Promise<string[]> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The process group of `pid`, from /proc. */
async function groupOf(pid: number): Promise<number> {
  return Number((await statOf(pid))[2]);
}

async function parentOf(pid: number): Promise<number> {
  return Number((await statOf(pid))[1]);
}

/** The arguments `ps` and `pgrep -f` see. */
async function commandLine(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
}

/** Starts test/fake_runner.py in `dir`; `pids()` waits for its first event and reads its and its child's pid. */
async function startFake(
  launcher: RunnerLauncher,
  dir: string,
  hyperparameters: Record<string, unknown>,
  python = 'python3',
) {
  const { launch, pidFile } = await fakeRunnerLaunch(dir, hyperparameters, python);
  const events: RunnerEvent[] = [];
  const stray: string[] = [];
  const stderr: Buffer[] = [];
  const started = await launcher.launch(launch);
  const runner = new RunnerProcess(started, {
    event: (e) => events.push(e),
    stray: (l) => stray.push(l),
    stderr: (c) => stderr.push(c),
  });
  const pids = async () => {
    while (events.length === 0) await new Promise((r) => setTimeout(r, 20));
    const [runnerPid, childPid] = (await readFile(pidFile, 'utf8')).split(' ').map(Number);
    return { runnerPid: runnerPid!, childPid: childPid! };
  };
  return { runner, started, events, stray, log: () => Buffer.concat(stderr).toString(), pids };
}

const zygotes: RunnerZygote[] = [];
const zygoteDirs: string[] = [];

/** A zygote forking fake runners from the system python3, ready to fork. */
async function startZygote(preload = fakePreload): Promise<RunnerZygote> {
  const cwd = await mkdtemp(join(tmpdir(), 'vtp-zygote-test-'));
  zygoteDirs.push(cwd);
  const zygote = new RunnerZygote({
    python: 'python3',
    preload,
    cwd,
    env: { ...process.env, PYTHONPATH: runnerHelperDir },
    logger: createLogger('zygote-test', 'warn'),
  });
  zygotes.push(zygote);
  await zygote.start();
  await zygote.ready(30_000);
  return zygote;
}

afterAll(async () => {
  for (const zygote of zygotes) await zygote.stop();
  for (const dir of zygoteDirs) await rm(dir, { recursive: true, force: true });
});

const launchers: [string, () => Promise<RunnerLauncher>][] = [
  ['spawned cold', async () => coldRunners],
  ['forked from a warm zygote', startZygote],
];

describe.each(launchers)('RunnerProcess, %s, with a fake runner speaking the protocol', (_, makeLauncher) => {
  let dir: string;
  let launcher: RunnerLauncher;
  beforeAll(async () => {
    launcher = await makeLauncher();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-runner-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const start = (hyperparameters: Record<string, unknown>, python?: string) =>
    startFake(launcher, dir, hyperparameters, python);

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
    // What ps, pgrep -f and the soak's fault injector look for, forked or spawned.
    // (after the interpreter, which the pyenv shim of python3 names by its full path)
    expect((await commandLine(runnerPid)).slice(1)).toEqual([
      '-u',
      fakeRunner,
      '--config',
      join(dir, 'config.json'),
    ]);
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

describe('RunnerZygote', () => {
  const dirs: string[] = [];
  const newDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vtp-runner-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const long = { behaviour: 'complete', epochs: 1000, epochSeconds: 0.2 };

  it('forks each runner: a child of the zygote, leading its own group', async () => {
    const zygote = await startZygote();
    const { runner, started, events, pids } = await startFake(zygote, await newDir(), long);
    const { runnerPid, childPid } = await pids();
    expect(started.origin).toBe(`forked from the warm zygote (pid ${zygote.pid})`);
    expect(runner.pid).toBe(runnerPid);
    expect(await parentOf(runnerPid)).toBe(zygote.pid);
    expect(await groupOf(runnerPid)).toBe(runnerPid);
    expect(await groupOf(childPid)).toBe(runnerPid);
    // ps shows the zygote without the filler that makes room for its runners' command lines.
    expect((await commandLine(zygote.pid!)).at(-1)).not.toMatch(/^x+$/);
    expect(await runner.terminate(5000)).toEqual({ code: 130, signal: null });
    expect(events.at(-1)?.type).toBe('cancelled');
  });

  it('keeps runners apart: a killed group takes neither the other runner nor the zygote with it', async () => {
    const zygote = await startZygote();
    const zygotePid = zygote.pid!;
    const victim = await startFake(zygote, await newDir(), long);
    const survivor = await startFake(zygote, await newDir(), {
      behaviour: 'complete',
      epochs: 10,
      epochSeconds: 0.2,
    });
    const { runnerPid } = await victim.pids();
    await survivor.pids();
    process.kill(-runnerPid, 'SIGKILL');
    expect(await victim.runner.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await survivor.runner.exited).toEqual({ code: 0, signal: null });
    expect(survivor.events.at(-1)?.type).toBe('completed');
    expect(zygote.pid).toBe(zygotePid);
    expect(await parentOf(zygotePid)).toBe(process.pid);
  });

  it('a zygote killed mid-way ends its runners, the next training still runs, and a new zygote takes over', async () => {
    const zygote = await startZygote();
    const first = zygote.pid!;
    const orphan = await startFake(zygote, await newDir(), long);
    const { runnerPid, childPid } = await orphan.pids();
    process.kill(first, 'SIGKILL');
    expect(await orphan.runner.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(orphan.log()).toContain('the warm zygote this runner was forked from died (SIGKILL)');
    expect(await vanished(-runnerPid)).toBe(true);
    expect(await vanished(childPid)).toBe(true);
    // Cold while the new zygote starts (or warm if it was quicker): the training runs either way.
    const next = await startFake(zygote, await newDir(), { behaviour: 'complete' });
    expect(await next.runner.exited).toEqual({ code: 0, signal: null });
    const second = await zygote.ready(30_000);
    expect(second).not.toBe(first);
    const warm = await startFake(zygote, await newDir(), long);
    const { runnerPid: warmPid } = await warm.pids();
    expect(await parentOf(warmPid)).toBe(second);
    expect(await warm.runner.terminate(5000)).toEqual({ code: 130, signal: null });
  });

  it('refuses to fork once it runs a second thread: the runner is spawned cold, saying why', async () => {
    const zygote = await startZygote(threadOnSignalPreload);
    process.kill(zygote.pid!, 'SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, 500)); // the handler runs at the zygote's next wake-up
    // One that runs until stopped: a runner that already ended has no parent left to read.
    const { runner, started, pids } = await startFake(zygote, await newDir(), long);
    expect(started.origin).toMatch(/^a new interpreter \(the zygote runs 2 Python threads \(.*stray-thread/);
    const { runnerPid } = await pids();
    expect(await parentOf(runnerPid)).not.toBe(zygote.pid);
    expect(await runner.terminate(5000)).toEqual({ code: 130, signal: null });
  });

  it('dies with its trainer, and its runners with it; the next trainer in that folder gets a zygote again', async () => {
    const dir = await newDir();
    const host = execFile(process.execPath, [zygoteHost, dir]);
    const line = await new Promise<string>((resolve, reject) => {
      host.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      host.once('exit', (code) => reject(new Error(`the host exited (${code}) before starting a runner`)));
    });
    const { zygote, runner, child } = JSON.parse(line) as { zygote: number; runner: number; child: number };
    expect(await parentOf(runner)).toBe(zygote);
    host.kill('SIGKILL');
    expect(await vanished(zygote)).toBe(true);
    expect(await vanished(runner)).toBe(true);
    signalProcess(child, 'SIGKILL'); // the fake runner's `sleep`: real dataloader workers watch their runner
    // The socket the killed trainer left in the zygote's folder is no obstacle.
    const next = new RunnerZygote({
      python: 'python3',
      preload: fakePreload,
      cwd: join(dir, 'zygote'),
      env: { ...process.env, PYTHONPATH: runnerHelperDir },
      logger: createLogger('zygote-test', 'warn'),
    });
    zygotes.push(next);
    await next.start();
    expect(await next.ready(30_000)).toBeGreaterThan(0);
  });
});
