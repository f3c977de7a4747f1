import type { Job, JobStatus } from '@vtp/client';
import type { JobFilters } from '../api.ts';
import { clear, formatTime, h, keepFocus } from '../dom.ts';
import { headlineMetric, progressText, statusBadge } from '../jobFacts.ts';
import { href } from '../route.ts';
import { every, type View } from './view.ts';

const STATUSES: JobStatus[] = ['queued', 'dispatching', 'running', 'succeeded', 'failed', 'cancelled'];
const POLL_MS = 3000;

function select(id: string, label: string, values: string[]): [HTMLLabelElement, HTMLSelectElement] {
  return [
    h('label', { for: id }, label),
    h(
      'select',
      { id },
      h('option', { value: '' }, 'all'),
      ...values.map((v) => h('option', { value: v }, v)),
    ),
  ];
}

/** Every job of the user, its status kept current by polling, with filters and a selection to compare. */
export const jobsView: View = async ({ api, main, signal }) => {
  const [statusLabel, status] = select('filter-status', 'Status', STATUSES);
  const [frameworkLabel, framework] = select('filter-framework', 'Framework', ['ultralytics', 'timm']);
  const selected = new Set<string>();
  const compare = h('a', { class: 'button', href: '#/compare', 'aria-disabled': 'true' }, 'Compare selected');
  const updateCompare = () => {
    compare.setAttribute('href', selected.size ? href.compare([...selected]) : '#/compare');
    compare.setAttribute('aria-disabled', String(selected.size < 1));
    compare.textContent = `Compare selected (${selected.size})`;
  };
  updateCompare();
  const rows = h('tbody');
  const table = h(
    'table',
    { 'aria-label': 'Training jobs', 'aria-live': 'off' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Compare', 'Job', 'Status', 'Progress', 'Latest', 'Created'].map((c) =>
          h('th', { scope: 'col' }, c),
        ),
      ),
    ),
    rows,
  );

  const row = (job: Job) => {
    const box = h('input', {
      type: 'checkbox',
      'data-key': `pick-${job.id}`,
      'aria-label': `Compare ${job.model} ${job.id.slice(0, 8)}`,
      checked: selected.has(job.id),
    });
    box.addEventListener('change', () => {
      box.checked ? selected.add(job.id) : selected.delete(job.id);
      updateCompare();
    });
    return h(
      'tr',
      { 'data-job-id': job.id },
      h('td', {}, box),
      h(
        'td',
        {},
        h('a', { href: href.job(job.id), 'data-key': `open-${job.id}` }, job.model),
        h('span', { class: 'muted mono' }, ` ${job.id.slice(0, 8)}`),
      ),
      h('td', {}, statusBadge(job)),
      h('td', {}, progressText(job)),
      h('td', { class: 'mono' }, headlineMetric(job)),
      h('td', {}, formatTime(job.createdAt)),
    );
  };
  const refresh = async () => {
    const filters: JobFilters = {};
    if (status.value) filters.status = status.value as JobStatus;
    if (framework.value) filters.framework = framework.value as Job['framework'];
    const { items } = await api.jobs(filters);
    keepFocus(rows, () => clear(rows, ...items.map(row)));
    if (!items.length) clear(rows, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No jobs match.')));
  };
  status.addEventListener('change', () => void refresh());
  framework.addEventListener('change', () => void refresh());

  await refresh();
  clear(
    main,
    h(
      'div',
      { class: 'heading' },
      h('h1', {}, 'Jobs'),
      h('a', { class: 'button primary', href: href.train() }, 'New training'),
    ),
    h(
      'div',
      { class: 'filters', role: 'group', 'aria-label': 'Filters' },
      statusLabel,
      status,
      frameworkLabel,
      framework,
      compare,
    ),
    h('div', { class: 'scroll' }, table),
  );
  void every(POLL_MS, signal, refresh);
};
