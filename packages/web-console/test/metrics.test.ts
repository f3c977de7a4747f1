import type { JobEvent } from '@vtp/client';
import { describe, expect, it } from 'vitest';
import { alignOnEpochs, chartGroups, MetricHistory } from '../src/metrics.ts';

let seq = 0;
function progress(epoch: number, metrics: Record<string, number>, superseded = false): JobEvent {
  seq += 1;
  return {
    jobId: '00000000-0000-4000-8000-000000000000',
    seq,
    attempt: 1,
    superseded,
    type: 'progress',
    timestamp: '2026-12-02T00:00:00.000Z',
    receivedAt: '2026-12-02T00:00:00.000Z',
    payload: { epoch, totalEpochs: 3, metrics },
  };
}

describe('MetricHistory', () => {
  it('keeps one value per metric and epoch, the latest report of an epoch winning', () => {
    const history = new MetricHistory();
    expect(history.add(progress(1, { 'train/loss': 1.2, 'val/top1': 40 }))).toBe(true);
    expect(history.add(progress(2, { 'train/loss': 0.9 }))).toBe(true);
    // A later attempt resumed from epoch 1 trains epoch 2 again.
    expect(history.add(progress(2, { 'train/loss': 0.8, 'val/top1': 55 }))).toBe(true);
    expect(history.epochs).toEqual([1, 2]);
    expect(history.metricNames()).toEqual(['train/loss', 'val/top1']);
    expect(history.series('train/loss')).toEqual([1.2, 0.8]);
    expect(history.series('val/top1')).toEqual([40, 55]);
  });

  it('leaves out superseded epochs, other events, and values that are not finite numbers', () => {
    const history = new MetricHistory();
    expect(history.add(progress(1, { 'train/loss': 1 }, true))).toBe(false);
    expect(history.add({ ...progress(1, {}), type: 'heartbeat', payload: { phase: 'training' } })).toBe(
      false,
    );
    history.add({ ...progress(1, {}), payload: { epoch: 1, metrics: { a: 1, b: 'x', c: null } } });
    expect(history.metricNames()).toEqual(['a']);
    expect(history.series('missing')).toEqual([null]);
  });
});

describe('chartGroups', () => {
  it('overlays training and validation values of one quantity and groups other metrics by prefix', () => {
    expect(
      chartGroups([
        'val/top1',
        'train/loss',
        'val/loss',
        'metrics/mAP50(B)',
        'metrics/precision(B)',
        'lr/pg0',
        'fitness',
      ]),
    ).toEqual([
      { title: 'fitness', metrics: ['fitness'] },
      { title: 'lr', metrics: ['lr/pg0'] },
      { title: 'metrics', metrics: ['metrics/mAP50(B)', 'metrics/precision(B)'] },
      { title: 'loss', metrics: ['train/loss', 'val/loss'] },
      { title: 'top1', metrics: ['val/top1'] },
    ]);
  });
});

describe('alignOnEpochs', () => {
  it("puts several jobs' values on the union of their epochs, with gaps where a job has none", () => {
    const a = new MetricHistory();
    const b = new MetricHistory();
    a.add(progress(1, { 'val/top1': 10 }));
    a.add(progress(2, { 'val/top1': 20 }));
    b.add(progress(1, { 'val/top1': 15 }));
    b.add(progress(3, { 'val/top1': 35 }));
    expect(alignOnEpochs([a, b], 'val/top1')).toEqual({
      epochs: [1, 2, 3],
      series: [
        [10, 20, null],
        [15, null, 35],
      ],
    });
  });
});
