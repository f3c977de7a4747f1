import type { JobError, Metrics } from '@vtp/shared-schemas';
import type { RunnerEvent, RunnerFile } from '../runner/protocol.ts';
import type { RunnerExit } from '../runner/runnerProcess.ts';

/** Why the trainer itself stopped a runner. */
export type StopReason = 'cancel' | 'time_limit' | 'shutdown' | 'stalled';

export type RunnerOutcome =
  | { type: 'completed'; metrics: Metrics; files: RunnerFile[]; warnings: string[] }
  /** `files` undefined: the runner died before naming its resumable checkpoints; use the last reported ones. */
  | { type: 'cancelled'; files: RunnerFile[] | undefined }
  | { type: 'failed'; error: JobError };

type TerminalRunnerEvent = Extract<RunnerEvent, { type: 'completed' | 'error' | 'cancelled' }>;

export interface RunnerEnding {
  exit: RunnerExit;
  /** The runner's last word, if it said one. */
  terminal: TerminalRunnerEvent | undefined;
  stopReason: StopReason | undefined;
  maxDurationSeconds: number | undefined;
  /** What the watchdog saw, when it stopped the training as stalled. */
  stall: string | undefined;
  /** The last lines of the training log, quoted when the runner died without a word. */
  logTail: string;
  /** Whether the out-of-memory killer killed a process while the runner ran; undefined when unknown. */
  oomKilled?: boolean | undefined;
}

const MAX_MESSAGE = 4000;

/** What a finished runner means for the job: the one place that reads exit codes, signals and last words. */
export function runnerOutcome({
  exit,
  terminal,
  stopReason,
  maxDurationSeconds,
  stall,
  logTail,
  oomKilled,
}: RunnerEnding): RunnerOutcome {
  if (exit.spawnError) {
    return failed('internal_error', `Cannot start the Python runner: ${exit.spawnError.message}`);
  }
  // A training that finished wins over a stop that came too late to matter.
  if (terminal?.type === 'completed')
    return {
      type: 'completed',
      metrics: terminal.metrics,
      files: terminal.files,
      warnings: terminal.warnings,
    };
  if (stopReason === 'time_limit') {
    return failed(
      'time_limit_exceeded',
      `The training ran past its limit of ${maxDurationSeconds} seconds and was stopped`,
    );
  }
  if (stopReason === 'stalled')
    return failed('stalled', stall ?? 'The training made no progress and was stopped');
  if (stopReason === 'shutdown') {
    return failed('trainer_unavailable', 'The trainer shut down during the training; the runner was stopped');
  }
  if (stopReason === 'cancel' || terminal?.type === 'cancelled') {
    return terminal?.type === 'cancelled'
      ? { type: 'cancelled', files: terminal.files }
      : { type: 'cancelled', files: undefined };
  }
  if (terminal?.type === 'error') return failed(terminal.code, terminal.message);
  if (exit.signal === 'SIGKILL' && oomKilled === false) {
    return failed(
      'killed',
      withLog(
        'The runner was killed (SIGKILL) without reporting an error, not by the out-of-memory killer (the kernel counted no OOM kill)',
        logTail,
      ),
    );
  }
  if (exit.signal === 'SIGKILL') {
    return failed(
      'out_of_memory',
      withLog(
        oomKilled
          ? 'The runner was killed by the out-of-memory killer: give the job more memory, or lower batch or imgsz'
          : 'The runner was killed (SIGKILL) without reporting an error: most likely the out-of-memory killer',
        logTail,
      ),
    );
  }
  if (exit.signal) return failed('killed', withLog(`The runner was killed by ${exit.signal}`, logTail));
  if (exit.code === 0) {
    return failed('framework_error', withLog('The runner exited without reporting a result', logTail));
  }
  return failed(
    'framework_error',
    withLog(`The runner exited with code ${exit.code} without reporting an error`, logTail),
  );
}

function failed(code: JobError['code'], message: string): RunnerOutcome {
  return { type: 'failed', error: { code, message: message.slice(0, MAX_MESSAGE) } };
}

function withLog(message: string, logTail: string): string {
  if (!logTail) return message;
  const room = MAX_MESSAGE - message.length - 20;
  return `${message}. Last log lines:\n${logTail.slice(-room)}`;
}
