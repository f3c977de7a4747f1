import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric, h } from './dom.ts';

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];
const HEIGHT = 220;

export interface LineChart {
  element: HTMLElement;
  /** New data: x is the epoch axis, one array per series, aligned with it. */
  update(epochs: number[], series: (number | null)[][]): void;
  destroy(): void;
}

/**
 * One uPlot line chart over epochs in a labelled figure; it follows its container's width (laptop or phone),
 * and its latest values are also given as text for screen readers.
 */
export function lineChart(title: string, labels: string[]): LineChart {
  const plotHost = h('div', { class: 'plot' });
  const summary = h('p', { class: 'visually-hidden' });
  const element = h(
    'figure',
    {
      class: 'chart',
      'aria-label': `${title} per epoch`,
      'data-metric-chart': title,
      'data-series': labels.join('\n'),
    },
    h('figcaption', {}, title),
    plotHost,
    summary,
  );
  const options: uPlot.Options = {
    width: 320,
    height: HEIGHT,
    scales: { x: { time: false } },
    // uPlot's own tick labels round small values (a learning rate's 0.00075 would read 0.001).
    axes: [{ label: 'epoch' }, { size: 60, values: (_u, splits) => splits.map(formatMetric) }],
    legend: { live: true },
    series: [
      { label: 'epoch' },
      ...labels.map((label, i) => ({
        label,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        spanGaps: true,
        points: { show: true, size: 5 },
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : formatMetric(v)),
      })),
    ],
  };
  let data: uPlot.AlignedData = [[], ...labels.map(() => [])];
  const plot = new uPlot(options, data, plotHost);
  const resize = new ResizeObserver(() => {
    const width = Math.max(200, Math.floor(plotHost.clientWidth));
    if (width !== plot.width) plot.setSize({ width, height: HEIGHT });
  });
  resize.observe(plotHost);
  return {
    element,
    update(epochs, series) {
      data = [epochs, ...series];
      plot.setData(data);
      element.dataset.points = String(epochs.length);
      summary.textContent = labels
        .map((label, i) => {
          const last = series[i]?.findLast((v) => v !== null);
          return `${label}: ${last === undefined || last === null ? 'no value' : formatMetric(last)}`;
        })
        .join('; ');
    },
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
