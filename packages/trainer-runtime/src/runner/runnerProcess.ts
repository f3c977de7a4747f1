import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { signalGroup, signalProcess, waitForGroupExit } from './processGroup.ts';
import { LineSplitter, parseRunnerLine, type RunnerEvent } from './protocol.ts';

/** How long an exited runner's group may take to disappear after its SIGKILL. */
const GROUP_EXIT_WAIT_MS = 2000;

export interface RunnerLaunch {
  python: string;
  script: string;
  configFile: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface RunnerOutput {
  event(event: RunnerEvent): void;
  /** A stdout line that is not a protocol message. */
  stray(line: string): void;
  stderr(chunk: Buffer): void;
}

export interface RunnerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (missing interpreter, bad cwd). */
  spawnError?: Error;
}

/**
 * A runner process as it came to be, spawned or forked from a warm zygote: the leader of its own process group,
 * stdout the protocol, stderr the log.
 */
export interface StartedRunner {
  pid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the runner itself has exited; what it left in its group may still hold the streams. */
  exit: Promise<RunnerExit>;
  /** How it was started, for the training log. */
  origin: string;
}

/** Starts runners: cold (`coldRunners`) or forked from a warm zygote (RunnerZygote). */
export interface RunnerLauncher {
  launch(launch: RunnerLaunch): Promise<StartedRunner>;
}

/** The runner's arguments, whichever way it starts. */
export function runnerArguments(launch: RunnerLaunch): string[] {
  return ['--config', launch.configFile];
}

/** Starts the runner in a fresh interpreter: the way that always works, at the price of Python's start-up. */
export function spawnRunner(launch: RunnerLaunch, origin = 'a new interpreter'): StartedRunner {
  const child = spawn(launch.python, ['-u', launch.script, ...runnerArguments(launch)], {
    cwd: launch.cwd,
    env: launch.env,
    detached: true, // its own process group: process.kill(-pid) reaches the runner and its children
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<RunnerExit>((resolve) => {
    child.once('error', (err) => {
      // No process, so no 'exit' may ever come after a failed spawn.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: err });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { pid: child.pid, stdout: child.stdout!, stderr: child.stderr!, exit, origin };
}

/** Every runner in a new interpreter: the one-shot `run` mode, and a trainer with warm runners turned off. */
export const coldRunners: RunnerLauncher = { launch: async (launch) => spawnRunner(launch) };

/**
 * Supervises one runner in its own process group, so that a signal reaches everything it started (dataloader
 * workers, compilers). stdout is the protocol, stderr the log.
 */
export class RunnerProcess {
  readonly exited: Promise<RunnerExit>;
  readonly pid: number | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(started: StartedRunner, output: RunnerOutput) {
    this.pid = started.pid;
    const lines = new LineSplitter();
    const deliver = (line: string) => {
      const parsed = parseRunnerLine(line);
      if (parsed.type === 'stray') output.stray(parsed.line);
      else output.event(parsed);
    };
    started.stdout.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk)) deliver(line);
    });
    started.stderr.on('data', (chunk: Buffer) => output.stderr(chunk));
    const streamsClosed = Promise.all([closed(started.stdout), closed(started.stderr)]);

    this.exited = started.exit.then(async (exit) => {
      if (!exit.spawnError) {
        // Whatever the runner left behind in its group goes with it; that also closes the streams it inherited.
        this.signalGroup('SIGKILL');
        await streamsClosed;
        for (const line of lines.end()) deliver(line);
        await this.groupGone();
      }
      this.finished = true;
      clearTimeout(this.killTimer);
      return exit;
    });
  }

  /** Sends `signal` to the runner's whole process group; false when there is none left. */
  signalGroup(signal: NodeJS.Signals): boolean {
    return this.pid !== undefined && !this.finished && signalGroup(this.pid, signal);
  }

  /**
   * SIGTERM to the runner now (it stops at the next batch and reports), SIGKILL to its whole group when
   * `graceMs` runs out. Only the runner gets the SIGTERM: its dataloader workers keep serving it batches until it
   * stops, and go with its group once it has exited.
   */
  terminate(graceMs: number): Promise<RunnerExit> {
    if (!this.killTimer && this.pid !== undefined && !this.finished && signalProcess(this.pid, 'SIGTERM')) {
      this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    }
    return this.exited;
  }

  /** Waits (briefly) until the SIGKILLed group has really stopped, so the job folder can go without a writer. */
  private async groupGone(): Promise<void> {
    if (this.pid !== undefined) await waitForGroupExit(this.pid, GROUP_EXIT_WAIT_MS);
  }
}

function closed(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) resolve();
    else stream.once('close', () => resolve());
  });
}
