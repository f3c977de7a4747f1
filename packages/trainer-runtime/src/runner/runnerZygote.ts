import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Logger } from '@vtp/service-kit';
import { runnerHelperDir } from '../paths.ts';
import { signalGroup } from './processGroup.ts';
import { LineSplitter } from './protocol.ts';
import {
  type RunnerExit,
  type RunnerLaunch,
  runnerArguments,
  type StartedRunner,
  spawnRunner,
} from './runnerProcess.ts';

const ZYGOTE_SCRIPT = join(runnerHelperDir, 'vtp_zygote.py');
/** Restarts of a zygote that keeps dying back off from this, doubling, up to a minute. */
const FIRST_RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 60_000;
/** A stream's header line ("<id> stdout") is short; anything longer is not the zygote's. */
const MAX_HEADER_BYTES = 128;
const STOP_WAIT_MS = 2000;
/** What a Unix socket's path may hold on Linux (sun_path is 108 bytes with its final NUL). */
const MAX_SOCKET_PATH_BYTES = 107;
/** Room in the zygote's arguments for a runner's command line (paths are at most 4096 bytes). */
const TITLE_SPACE = 'x'.repeat(8192);
/**
 * A training that comes while the zygote is still importing waits this long for it: a cold spawn would pay the
 * same imports, and on a small machine both at once slow each other down.
 */
const STARTING_WAIT_MS = 60_000;

export interface RunnerZygoteOptions {
  python: string;
  /** Python file the zygote runs once before forking: the imports of torch and the framework. */
  preload: string;
  /** The zygote's own scratch folder (its cwd). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

type ZygoteMessage =
  | { type: 'ready'; pid: number }
  | { type: 'forked'; id: string; pid: number }
  | { type: 'refused'; id: string; reason: string }
  | { type: 'exited'; id: string; pid: number; code: number | null; signal: NodeJS.Signals | null };

/** A runner asked of the zygote: its streams, waiting for their connections, and its fate. */
interface Forking {
  stdout: PassThrough;
  stderr: PassThrough;
  answered(outcome: { pid: number } | { reason: string }): void;
  exited(exit: RunnerExit): void;
  pid?: number;
}

/**
 * Takes Python's start-up (seconds of importing torch and the framework) off each training's critical path: a
 * long-lived Python process that has imported them forks a runner per training (vtp_zygote.py). A runner comes
 * out as a spawned one would (own process group, stdout the protocol, stderr the log) and is supervised the same
 * way; when the zygote is not ready, has died or cannot fork safely, the runner is spawned cold instead. A zygote
 * that dies takes its runners with it and is restarted.
 */
export class RunnerZygote {
  private readonly options: RunnerZygoteOptions;
  private readonly logger: Logger;
  private readonly runners = new Map<string, Forking>();
  /**
   * Streams waiting for their connection, apart from `runners`: a runner that exits at once may be reported
   * before the server has accepted the connections the zygote opened for it.
   */
  private readonly unconnected = new Map<string, { stdout?: PassThrough; stderr?: PassThrough }>();
  private server: Server | undefined;
  private process: ChildProcessWithoutNullStreams | undefined;
  /** The pid of a zygote that said it is ready; undefined while none is. */
  private readyPid: number | undefined;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: RunnerZygoteOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'zygote' });
  }

  /** The pid of the zygote when it is ready to fork, else undefined. */
  get pid(): number | undefined {
    return this.readyPid;
  }

  /** Listens for the runners' streams and starts the zygote (its imports then take seconds, in the background). */
  async start(): Promise<void> {
    if (this.stopped) return;
    await mkdir(this.options.cwd, { recursive: true });
    const path = this.socketPath();
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES)
      throw new Error(
        `the runners' socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes: shorten WORK_DIR`,
      );
    // One a trainer killed outright left behind (listening on it would fail with EADDRINUSE).
    await rm(path, { force: true });
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    this.spawnZygote();
  }

  /** Resolves once a zygote is ready to fork (for tests and measurements). */
  async ready(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.readyPid === undefined) {
      if (Date.now() > deadline) throw new Error(`the warm zygote was not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
    return this.readyPid;
  }

  /** Waits, at most `timeoutMs`, while the zygote that is running now is still importing. */
  private async whileStarting(timeoutMs: number): Promise<void> {
    const starting = this.process;
    const deadline = Date.now() + timeoutMs;
    while (starting && this.process === starting && this.readyPid === undefined && Date.now() < deadline) {
      await sleep(50);
    }
  }

  /** Forks the runner from the zygote when it can, else spawns it in a new interpreter, saying why. */
  async launch(launch: RunnerLaunch): Promise<StartedRunner> {
    const forked = await this.fork(launch);
    if ('pid' in forked) return forked;
    this.logger.info({ reason: forked.reason }, 'runner spawned cold');
    return spawnRunner(launch, `a new interpreter (${forked.reason})`);
  }

  /** Stops the zygote (its runners, if any are left, die with it) and the socket. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const zygote = this.process;
    if (zygote?.pid !== undefined && zygote.exitCode === null && zygote.signalCode === null) {
      const gone = new Promise((resolve) => zygote.once('exit', resolve));
      zygote.stdin.end(); // its loop ends at EOF
      const timer = setTimeout(() => zygote.kill('SIGKILL'), STOP_WAIT_MS);
      await gone;
      clearTimeout(timer);
    }
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    await rm(this.socketPath(), { force: true });
  }

  private async fork(launch: RunnerLaunch): Promise<StartedRunner | { reason: string }> {
    await this.whileStarting(STARTING_WAIT_MS);
    const zygote = this.process;
    const zygotePid = this.readyPid;
    if (this.stopped) return { reason: 'warm runners are stopped' };
    if (!zygote) return { reason: 'no warm zygote is running yet (starting up, or restarting)' };
    if (zygotePid === undefined) return { reason: 'the warm zygote is still importing' };
    if (launch.python !== this.options.python) return { reason: `the zygote runs ${this.options.python}` };
    const id = randomUUID();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let exited!: (exit: RunnerExit) => void;
    const exit = new Promise<RunnerExit>((resolve) => {
      exited = resolve;
    });
    const answer = new Promise<{ pid: number } | { reason: string }>((answered) =>
      this.runners.set(id, { stdout, stderr, answered, exited }),
    );
    this.unconnected.set(id, { stdout, stderr });
    const env = Object.fromEntries(Object.entries(launch.env).filter(([, value]) => value !== undefined));
    zygote.stdin.write(
      `${JSON.stringify({ type: 'fork', id, script: launch.script, argv: runnerArguments(launch), cwd: launch.cwd, env })}\n`,
    );
    const outcome = await answer;
    if ('reason' in outcome) {
      this.unconnected.delete(id);
      return outcome;
    }
    return {
      pid: outcome.pid,
      stdout,
      stderr,
      exit,
      origin: `forked from the warm zygote (pid ${zygotePid})`,
    };
  }

  private spawnZygote(): void {
    if (this.stopped) return;
    const { python, preload, cwd, env } = this.options;
    const args = ['-u', ZYGOTE_SCRIPT, '--preload', preload, '--socket', this.socketPath()];
    const zygote = spawn(python, [...args, '--title-space', TITLE_SPACE], {
      cwd,
      env,
      detached: true, // out of the trainer's group: a terminal's Ctrl-C reaches the trainer, which stops it
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process = zygote;
    const messages = new LineSplitter();
    zygote.stdout.on('data', (chunk: Buffer) => {
      for (const line of messages.push(chunk)) this.onMessage(line);
    });
    const log = new LineSplitter();
    zygote.stderr.on('data', (chunk: Buffer) => {
      for (const line of log.push(chunk)) this.logger.info({ line }, 'zygote output');
    });
    zygote.stdin.on('error', () => undefined); // a dead zygote's stdin: its 'exit' says what matters
    zygote.once('error', (err) => {
      this.logger.error({ err }, 'cannot start the warm zygote');
      if (zygote.pid === undefined) this.onZygoteExit(zygote, null, null); // no process: no 'close' to wait for
    });
    zygote.once('close', (code, signal) => this.onZygoteExit(zygote, code, signal));
  }

  private onMessage(line: string): void {
    let message: ZygoteMessage;
    try {
      message = JSON.parse(line) as ZygoteMessage;
    } catch {
      this.logger.warn({ line }, 'unreadable message from the zygote');
      return;
    }
    if (message.type === 'ready') {
      this.readyPid = message.pid;
      this.restartDelayMs = FIRST_RESTART_DELAY_MS;
      this.logger.info({ pid: message.pid }, 'warm zygote ready');
      return;
    }
    const runner = this.runners.get(message.id);
    if (!runner) return;
    if (message.type === 'forked') {
      runner.pid = message.pid;
      runner.answered({ pid: message.pid });
    } else if (message.type === 'refused') {
      this.runners.delete(message.id);
      runner.answered({ reason: message.reason });
    } else {
      this.runners.delete(message.id);
      runner.exited({ code: message.code, signal: message.signal });
    }
  }

  /** The zygote is gone: its runners died with it (parent-death signal); the next trainings go cold until a new one is ready. */
  private onZygoteExit(
    zygote: ChildProcessWithoutNullStreams,
    code: number | null,
    signal: string | null,
  ): void {
    if (this.process !== zygote) return;
    this.process = undefined;
    this.readyPid = undefined;
    for (const [id, runner] of this.runners) {
      this.runners.delete(id);
      if (runner.pid === undefined) {
        runner.answered({ reason: 'the warm zygote exited' });
        continue;
      }
      signalGroup(runner.pid, 'SIGKILL'); // it was sent already by the kernel; this covers a runner not yet set up
      runner.stderr.write(
        `[vtp-trainer] the warm zygote this runner was forked from died (${signal ?? code})\n`,
      );
      runner.exited({ code: null, signal: 'SIGKILL' });
    }
    if (this.stopped) return;
    this.logger.warn(
      { code, signal, restartInMs: this.restartDelayMs },
      'the warm zygote exited; restarting it',
    );
    this.restartTimer = setTimeout(() => this.spawnZygote(), this.restartDelayMs);
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
  }

  /** A runner's stdout or stderr, opened by the zygote: "<id> <stream>\n", then the stream itself. */
  private accept(socket: Socket): void {
    let header = Buffer.alloc(0);
    const onHeader = (chunk: Buffer) => {
      header = Buffer.concat([header, chunk]);
      const end = header.indexOf('\n');
      if (end < 0) {
        if (header.length > MAX_HEADER_BYTES) socket.destroy();
        return;
      }
      socket.off('data', onHeader);
      const [id, name] = header.subarray(0, end).toString().split(' ');
      const streams = id ? this.unconnected.get(id) : undefined;
      const target = name === 'stdout' || name === 'stderr' ? streams?.[name] : undefined;
      if (!id || !streams || !target) {
        socket.destroy();
        return;
      }
      delete streams[name as 'stdout' | 'stderr'];
      if (!streams.stdout && !streams.stderr) this.unconnected.delete(id);
      const rest = header.subarray(end + 1);
      if (rest.length > 0) target.write(rest);
      socket.on('data', (data: Buffer) => target.write(data));
      socket.once('close', () => target.end());
    };
    socket.on('data', onHeader);
    socket.on('error', () => undefined); // a reset connection closes too: 'close' ends the stream
  }

  /** In the zygote's folder: a trainer killed outright leaves nothing elsewhere, and its next start reuses it. */
  private socketPath(): string {
    return join(this.options.cwd, 'streams.sock');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
