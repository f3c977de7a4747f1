import type { TrainingPhase } from '@vtp/shared-schemas';

export interface StallLimits {
  /** No phase may go this long without progress (and the first epoch no longer than this). */
  floorMs: number;
}

/** Past the first epoch, an epoch may take this many times the longest one so far before it counts as stalled. */
const EPOCH_FACTOR = 5;

export interface Stall {
  phase: TrainingPhase;
  silentMs: number;
  limitMs: number;
}

/**
 * Where a training is and when it last made real progress (bytes downloaded, entries unpacked, an epoch
 * finished, bytes uploaded): liveness alone is not progress. Its limit for the current phase says when
 * silence becomes a stall; for epochs it follows the training's own pace, never below the floor.
 */
export class ProgressWatch {
  private current: TrainingPhase = 'downloading_dataset';
  private last: number;
  private epochStartedAt: number | undefined;
  private longestEpochMs = 0;
  private readonly limits: StallLimits;
  private readonly now: () => number;

  constructor(limits: StallLimits, now: () => number = Date.now) {
    this.limits = limits;
    this.now = now;
    this.last = now();
  }

  get phase(): TrainingPhase {
    return this.current;
  }

  get lastProgressAt(): Date {
    return new Date(this.last);
  }

  enter(phase: TrainingPhase): void {
    this.current = phase;
    this.progressed();
    if (phase === 'training') this.epochStartedAt = this.now();
  }

  progressed(): void {
    this.last = this.now();
  }

  epochEnded(): void {
    const now = this.now();
    if (this.epochStartedAt !== undefined)
      this.longestEpochMs = Math.max(this.longestEpochMs, now - this.epochStartedAt);
    this.epochStartedAt = now;
    this.last = now;
  }

  limitMs(): number {
    if (this.current !== 'training') return this.limits.floorMs;
    return Math.max(this.limits.floorMs, EPOCH_FACTOR * this.longestEpochMs);
  }

  /** The stall, when the current phase has gone past its limit without progress. */
  stalled(): Stall | undefined {
    const silentMs = this.now() - this.last;
    const limitMs = this.limitMs();
    return silentMs > limitMs ? { phase: this.current, silentMs, limitMs } : undefined;
  }
}
