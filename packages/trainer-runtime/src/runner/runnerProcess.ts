import { type ChildProcess, spawn } from 'node:child_process';
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
 * One runner process in its own process group, so that a signal reaches everything it started (dataloader
 * workers, compilers). stdout is the protocol, stderr the log.
 */
export class RunnerProcess {
  readonly exited: Promise<RunnerExit>;
  private readonly child: ChildProcess;
  private killTimer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(launch: RunnerLaunch, output: RunnerOutput) {
    this.child = spawn(launch.python, ['-u', launch.script, '--config', launch.configFile], {
      cwd: launch.cwd,
      env: launch.env,
      detached: true, // its own process group: process.kill(-pid) reaches the runner and its children
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = new LineSplitter();
    const deliver = (line: string) => {
      const parsed = parseRunnerLine(line);
      if (parsed.type === 'stray') output.stray(parsed.line);
      else output.event(parsed);
    };
    this.child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk)) deliver(line);
    });
    this.child.stderr?.on('data', (chunk: Buffer) => output.stderr(chunk));

    this.exited = new Promise((resolve) => {
      let spawnError: Error | undefined;
      this.child.once('error', (err) => {
        spawnError = err;
        // No process, so no 'close' may ever come after a failed spawn.
        if (this.child.pid === undefined) this.settle(resolve, { code: null, signal: null, spawnError: err });
      });
      this.child.once('exit', () => {
        // Whatever the runner left behind in its group goes with it; that also closes inherited pipes.
        this.signalGroup('SIGKILL');
      });
      this.child.once('close', (code, signal) => {
        for (const line of lines.end()) deliver(line);
        void this.groupGone().then(() =>
          this.settle(resolve, { code, signal, ...(spawnError ? { spawnError } : {}) }),
        );
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends `signal` to the runner's whole process group; false when there is none left. */
  signalGroup(signal: NodeJS.Signals): boolean {
    const pid = this.child.pid;
    return pid !== undefined && !this.finished && signalGroup(pid, signal);
  }

  /**
   * SIGTERM to the runner now (it stops at the next batch and reports), SIGKILL to its whole group when
   * `graceMs` runs out. Only the runner gets the SIGTERM: its dataloader workers keep serving it batches until it
   * stops, and go with its group once it has exited.
   */
  terminate(graceMs: number): Promise<RunnerExit> {
    const pid = this.child.pid;
    if (!this.killTimer && pid !== undefined && !this.finished && signalProcess(pid, 'SIGTERM')) {
      this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    }
    return this.exited;
  }

  /** Waits (briefly) until the SIGKILLed group has really stopped, so the job folder can go without a writer. */
  private async groupGone(): Promise<void> {
    const pid = this.child.pid;
    if (pid !== undefined) await waitForGroupExit(pid, GROUP_EXIT_WAIT_MS);
  }

  private settle(resolve: (exit: RunnerExit) => void, exit: RunnerExit): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.killTimer);
    resolve(exit);
  }
}
