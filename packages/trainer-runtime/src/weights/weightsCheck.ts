import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Logger, UnavailableError } from '@vtp/service-kit';
import {
  type WeightsCheckRequestBody,
  type WeightsCheckResponseBody,
  WeightsSummary,
} from '@vtp/shared-schemas';
import type { TrainerAdapter } from '../adapter.ts';
import { signalGroup } from '../runner/processGroup.ts';
import { runnerEnvironment } from '../runner/runnerEnvironment.ts';
import { downloadObject } from '../storage/objectTransfer.ts';

export interface WeightsCheckLimits {
  /** The whole check: download, Python's start-up, loading and comparing. */
  timeoutMs: number;
  /** Address space of the Python process (RLIMIT_AS). */
  maxMemoryBytes: number;
  /** Checks at once; one more is refused with 503 (each imports torch and the framework). */
  concurrency: number;
}

export interface WeightsCheckDeps {
  adapter: TrainerAdapter;
  python: string | undefined;
  runnerHelperDir: string;
  workDir: string;
  limits: WeightsCheckLimits;
  logger: Logger;
}

/** The Python output kept; a verdict is one short JSON line. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
const RETRY_AFTER_SECONDS = 5;

/**
 * Checks an uploaded weights file the way a training would load it: downloads it through the presigned URL it
 * was given, then runs the adapter's check_weights.py on it in a Python process of its own (its own process group,
 * a memory limit, no sockets, killed at the time limit), and turns what it printed into a verdict. The file and
 * its folder are gone when this returns.
 */
export class WeightsChecker {
  private readonly deps: WeightsCheckDeps;
  private running = 0;

  constructor(deps: WeightsCheckDeps) {
    this.deps = deps;
  }

  async check(request: WeightsCheckRequestBody): Promise<WeightsCheckResponseBody> {
    const { python, limits } = this.deps;
    if (!python) throw new UnavailableError('No Python environment to check weights with', 10);
    if (this.running >= limits.concurrency) {
      throw new UnavailableError(
        `${limits.concurrency} weights checks are running; try again shortly`,
        RETRY_AFTER_SECONDS,
        'weights_check_busy',
      );
    }
    this.running += 1;
    const dir = join(this.deps.workDir, 'weights-checks', randomUUID());
    try {
      await mkdir(dir, { recursive: true });
      // One budget for the whole check, download and load together: the backend waits no longer than that.
      const deadline = AbortSignal.timeout(limits.timeoutMs);
      const file = join(dir, 'weights');
      const bytes = await downloadObject(request.url, 'the uploaded weights', file, deadline);
      const sha256 = await hashFile(file);
      // Not the object that was uploaded: no retry can make it so.
      if (bytes !== request.bytes || sha256 !== request.sha256)
        return invalid(
          `the file read back from storage is not the upload: ${bytes} bytes, sha256 ${sha256} (expected ${request.bytes}, ${request.sha256})`,
        );
      return await this.runCheck(python, file, request.model, dir, deadline);
    } finally {
      this.running -= 1;
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async runCheck(
    python: string,
    file: string,
    model: string,
    dir: string,
    deadline: AbortSignal,
  ): Promise<WeightsCheckResponseBody> {
    const { adapter, limits, logger } = this.deps;
    const child = spawn(
      python,
      [
        '-u',
        adapter.weightsCheckScript,
        '--file',
        file,
        '--model',
        model,
        '--max-memory-bytes',
        String(limits.maxMemoryBytes),
      ],
      {
        cwd: dir,
        env: runnerEnvironment(process.env, this.deps.runnerHelperDir, adapter.pythonEnv(dir)),
        detached: true, // its own process group: the time limit kills whatever it started
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT_BYTES) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8000);
    });
    let timedOut = false;
    const kill = () => {
      timedOut = true;
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    };
    if (deadline.aborted) kill();
    else deadline.addEventListener('abort', kill, { once: true });
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) => resolve({ code, signal }));
      },
    ).finally(() => deadline.removeEventListener('abort', kill));
    if (child.pid) signalGroup(child.pid, 'SIGKILL'); // anything it left behind
    const seconds = Math.round(limits.timeoutMs / 1000);
    if (timedOut) return invalid(`loading the file took longer than the ${seconds}s limit`);
    const verdict = parseVerdict(stdout, limits.maxMemoryBytes);
    if (verdict) return verdict;
    logger.warn({ exit, stderr }, 'the weights check printed no verdict');
    return invalid(
      `loading the file crashed the ${adapter.framework} loader (${exit.signal ?? `exit code ${exit.code}`})`,
    );
  }
}

function invalid(problem: string): WeightsCheckResponseBody {
  return { valid: false, problem: problem.slice(0, 4000) };
}

/** check_weights.py prints one JSON line: the summary, or {"error": {code, message}}. */
function parseVerdict(stdout: string, maxMemoryBytes: number): WeightsCheckResponseBody | undefined {
  const line = stdout.trim().split('\n').at(-1);
  let printed: unknown;
  try {
    printed = line ? JSON.parse(line) : undefined;
  } catch {
    return undefined;
  }
  if (typeof printed !== 'object' || printed === null) return undefined;
  const error = (printed as { error?: { code?: unknown; message?: unknown } }).error;
  if (error) {
    if (error.code === 'out_of_memory')
      return invalid(
        `loading the file needed more than ${Math.round(maxMemoryBytes / 2 ** 20)} MiB of memory`,
      );
    return invalid(String(error.message ?? 'the file cannot be loaded'));
  }
  const summary = WeightsSummary.safeParse(printed);
  return summary.success ? { valid: true, summary: summary.data } : undefined;
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
