import { type LineChart, lineChart } from './charts.ts';
import { clear, h } from './dom.ts';
import { chartGroups, type MetricHistory } from './metrics.ts';

/**
 * The charts of one job: one per group of its metrics, rebuilt when a new metric appears and redrawn (at most
 * once per frame) as epochs arrive.
 */
export function jobCharts(
  container: HTMLElement,
  history: MetricHistory,
): { redraw(): void; destroy(): void } {
  let charts: { chart: LineChart; metrics: string[] }[] = [];
  let layout = '';
  let pending = false;

  const draw = () => {
    pending = false;
    const names = history.metricNames();
    if (names.join('\n') !== layout) {
      layout = names.join('\n');
      for (const { chart } of charts) chart.destroy();
      charts = chartGroups(names).map((group) => ({
        chart: lineChart(group.title, group.metrics),
        metrics: group.metrics,
      }));
      clear(
        container,
        ...(charts.length
          ? charts.map(({ chart }) => chart.element)
          : [
              h(
                'p',
                { class: 'muted' },
                'No epoch has finished yet: the charts fill in as the training reports.',
              ),
            ]),
      );
    }
    for (const { chart, metrics } of charts)
      chart.update(
        history.epochs,
        metrics.map((name) => history.series(name)),
      );
  };
  return {
    redraw() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(draw);
    },
    destroy() {
      for (const { chart } of charts) chart.destroy();
    },
  };
}
