import type { Job } from '@vtp/client';
import { type LineChart, lineChart } from '../charts.ts';
import { clear, h } from '../dom.ts';
import { headlineMetric, statusBadge } from '../jobFacts.ts';
import { alignOnEpochs, MetricHistory } from '../metrics.ts';
import { href } from '../route.ts';
import type { View } from './view.ts';

/** Jobs compared at once: each holds an event stream while it runs. */
const MAX_JOBS = 8;

const label = (job: Job) => `${job.model} ${job.id.slice(0, 8)}`;

/** Picks the jobs to compare when none are named. */
async function chooser({ api, main }: Parameters<View>[0]): Promise<void> {
  const { items } = await api.jobs();
  const boxes = items.map((job) => ({
    job,
    box: h('input', { type: 'checkbox', id: `pick-${job.id}`, value: job.id }),
  }));
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'compare-title' },
    h('h1', { id: 'compare-title' }, 'Compare jobs'),
    h('p', { class: 'muted' }, `Choose up to ${MAX_JOBS} jobs; their metric curves are overlaid per metric.`),
    h(
      'ul',
      { class: 'picks' },
      ...boxes.map(({ job, box }) =>
        h(
          'li',
          {},
          box,
          h('label', { for: box.id }, `${label(job)} `, statusBadge(job), ` ${headlineMetric(job)}`),
        ),
      ),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Compare'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const ids = boxes
      .filter(({ box }) => box.checked)
      .map(({ job }) => job.id)
      .slice(0, MAX_JOBS);
    if (ids.length) location.hash = href.compare(ids);
  });
  clear(main, form);
}

/** The metric curves of several jobs overlaid, one chart per metric, live for those still running. */
export const compareView =
  (jobIds: string[]): View =>
  async (ctx) => {
    if (!jobIds.length) return chooser(ctx);
    const { api, main, signal } = ctx;
    const jobs = await Promise.all(jobIds.slice(0, MAX_JOBS).map((id) => api.job(id)));
    const histories = jobs.map(() => new MetricHistory());
    const host = h('div', { class: 'charts', id: 'compare-charts' });
    let charts = new Map<string, LineChart>();
    signal.addEventListener('abort', () => {
      for (const chart of charts.values()) chart.destroy();
    });
    let pending = false;
    const draw = () => {
      pending = false;
      const names = [...new Set(histories.flatMap((h) => h.metricNames()))].sort();
      if (names.join('\n') !== [...charts.keys()].join('\n')) {
        for (const chart of charts.values()) chart.destroy();
        charts = new Map(names.map((name) => [name, lineChart(name, jobs.map(label))]));
        clear(host, ...[...charts.values()].map((c) => c.element));
      }
      for (const [name, chart] of charts) {
        const { epochs, series } = alignOnEpochs(histories, name);
        chart.update(epochs, series);
      }
    };
    const redraw = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(draw);
    };
    clear(
      main,
      h(
        'div',
        { class: 'heading' },
        h('h1', {}, 'Compare'),
        h('a', { href: '#/compare' }, 'Choose other jobs'),
      ),
      h(
        'ul',
        { class: 'legend-list' },
        ...jobs.map((job) =>
          h(
            'li',
            {},
            h('a', { href: href.job(job.id) }, label(job)),
            ' ',
            statusBadge(job),
            ` ${headlineMetric(job)}`,
          ),
        ),
      ),
      host,
    );
    await Promise.all(
      jobs.map(async (job, i) => {
        for await (const event of api.events(job.id, signal)) if (histories[i]?.add(event)) redraw();
      }),
    ).catch((err: Error) => {
      if (!signal.aborted) main.append(h('p', { class: 'error', role: 'alert' }, err.message));
    });
  };
