import type { JobEvent } from '@vtp/client';

/**
 * A job's metrics per epoch, built from its progress events. An epoch reported again (a later attempt resumed
 * from an earlier checkpoint and trained it again) replaces the earlier values; events the backend marks
 * superseded are left out.
 */
export class MetricHistory {
  readonly epochs: number[] = [];
  private readonly rows = new Map<number, Record<string, number>>();
  private readonly names = new Set<string>();

  /** True when the event changed the history. */
  add(event: JobEvent): boolean {
    if (event.type !== 'progress' || event.superseded) return false;
    const epoch = event.payload.epoch;
    const metrics = event.payload.metrics;
    if (typeof epoch !== 'number' || typeof metrics !== 'object' || metrics === null) return false;
    if (!this.rows.has(epoch)) {
      this.epochs.push(epoch);
      this.epochs.sort((a, b) => a - b);
    }
    const row: Record<string, number> = {};
    for (const [name, value] of Object.entries(metrics as Record<string, unknown>)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      row[name] = value;
      this.names.add(name);
    }
    this.rows.set(epoch, row);
    return true;
  }

  metricNames(): string[] {
    return [...this.names].sort();
  }

  /** One value per epoch of `epochs` (null where that epoch did not report the metric). */
  series(name: string): (number | null)[] {
    return this.epochs.map((epoch) => this.rows.get(epoch)?.[name] ?? null);
  }
}

export interface ChartGroup {
  title: string;
  metrics: string[];
}

/**
 * Which metrics share a chart: a training and a validation value of the same quantity (`train/loss` and
 * `val/loss`) overlay each other; otherwise metrics group by their prefix (`metrics/mAP50(B)` with
 * `metrics/precision(B)`, `lr/pg0` with `lr/pg1`), and a metric without one stands alone.
 */
export function chartGroups(names: string[]): ChartGroup[] {
  const groups = new Map<string, string[]>();
  for (const name of [...names].sort()) {
    const slash = name.indexOf('/');
    const prefix = slash < 0 ? '' : name.slice(0, slash);
    const title = prefix === 'train' || prefix === 'val' ? name.slice(slash + 1) : prefix || name;
    groups.set(title, [...(groups.get(title) ?? []), name]);
  }
  return [...groups].map(([title, metrics]) => ({ title, metrics }));
}

/** Several jobs' values of one metric on one epoch axis (the union of their epochs), for the compare view. */
export function alignOnEpochs(
  histories: MetricHistory[],
  name: string,
): { epochs: number[]; series: (number | null)[][] } {
  const epochs = [...new Set(histories.flatMap((h) => h.epochs))].sort((a, b) => a - b);
  const series = histories.map((history) => {
    const values = history.series(name);
    const byEpoch = new Map(history.epochs.map((epoch, i) => [epoch, values[i] ?? null]));
    return epochs.map((epoch) => byEpoch.get(epoch) ?? null);
  });
  return { epochs, series };
}
