import type { Artifact, Job } from '@vtp/client';
import type { Api } from '../api.ts';
import { clear, formatBytes, formatMetric, formatTime, h, keepFocus, toast } from '../dom.ts';
import { isFinished, jobTitle, progressText, statusBadge } from '../jobFacts.ts';
import { jobCharts } from '../metricCharts.ts';
import { MetricHistory } from '../metrics.ts';
import { href } from '../route.ts';
import type { View } from './view.ts';

/** How often the job itself is read again while events arrive (status, attempts, artifacts). */
const JOB_REFRESH_MS = 1500;

function table(label: string, columns: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { 'aria-label': label },
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows),
    ),
  );
}

async function download(api: Api, job: Job, artifact: Artifact): Promise<void> {
  const { blob, filename } = await api.artifact(job.id, artifact.kind);
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A job: live charts of every metric per epoch, its attempts, the live log, artifacts, cancel and resume. */
export const jobView =
  (id: string): View =>
  async ({ api, main, signal }) => {
    let job = await api.job(id);
    const history = new MetricHistory();
    const chartsHost = h('div', { class: 'charts', id: 'charts' });
    const charts = jobCharts(chartsHost, history);
    signal.addEventListener('abort', () => charts.destroy());
    const summary = h('div');
    const log = h('pre', {
      id: 'job-log',
      class: 'log',
      tabindex: 0,
      'aria-label': 'Training log',
      hidden: true,
    });
    const logButton = h(
      'button',
      { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'job-log' },
      'Show log',
    );

    const act = async (action: 'cancel' | 'resume') => {
      try {
        job = await api.act(job.id, action);
        toast(action === 'cancel' ? 'Cancellation requested' : 'Resumed as a new attempt');
        renderSummary();
        if (action === 'resume') void follow();
      } catch (err) {
        toast((err as Error).message);
      }
    };

    const renderSummary = () => {
      const finished = isFinished(job);
      const metrics = Object.entries(job.latestMetrics ?? {}).sort(([a], [b]) => a.localeCompare(b));
      keepFocus(summary, () =>
        clear(
          summary,
          h(
            'div',
            { class: 'heading' },
            h('h1', {}, jobTitle(job), ' ', statusBadge(job)),
            h(
              'div',
              { class: 'actions' },
              !finished &&
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'danger',
                    'data-key': 'cancel',
                    onclick: () => void act('cancel'),
                  },
                  'Cancel',
                ),
              (job.status === 'failed' || job.status === 'cancelled') &&
                h(
                  'button',
                  { type: 'button', 'data-key': 'resume', onclick: () => void act('resume') },
                  'Resume',
                ),
            ),
          ),
          h(
            'div',
            { class: 'progress-line' },
            h('progress', { max: 1, value: job.progress.fraction, 'aria-label': 'Training progress' }),
            h('span', {}, progressText(job)),
          ),
          job.error &&
            h(
              'p',
              { class: 'error', role: 'alert' },
              h('strong', {}, `Failed: ${job.error.code}`),
              ` — ${job.error.message}`,
            ),
          h(
            'dl',
            { class: 'facts' },
            h('dt', {}, 'Job'),
            h('dd', { class: 'mono' }, job.id),
            h('dt', {}, 'Dataset'),
            h('dd', {}, h('a', { href: href.dataset(job.datasetId) }, job.datasetId.slice(0, 8))),
            h('dt', {}, 'Hyperparameters'),
            h(
              'dd',
              { class: 'mono' },
              Object.entries(job.hyperparameters)
                .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                .join(' '),
            ),
            h('dt', {}, 'Created'),
            h('dd', {}, formatTime(job.createdAt)),
            h('dt', {}, 'Finished'),
            h('dd', {}, formatTime(job.finishedAt)),
            job.tracking && h('dt', {}, 'MLflow'),
            job.tracking &&
              h(
                'dd',
                {},
                job.tracking.mlflow.url
                  ? h(
                      'a',
                      { href: job.tracking.mlflow.url, rel: 'noreferrer' },
                      job.tracking.mlflow.experiment,
                    )
                  : job.tracking.mlflow.experiment,
              ),
          ),
          metrics.length > 0 &&
            h(
              'section',
              { 'aria-labelledby': 'latest-title' },
              h('h2', { id: 'latest-title' }, 'Latest metrics'),
              table(
                'Latest metrics',
                ['Metric', 'Value'],
                metrics.map(([k, v]) =>
                  h('tr', {}, h('td', {}, k), h('td', { class: 'mono' }, formatMetric(v))),
                ),
              ),
            ),
          h(
            'section',
            { 'aria-labelledby': 'attempts-title' },
            h('h2', { id: 'attempts-title' }, 'Attempts'),
            table(
              'Attempts',
              ['#', 'Status', 'Resumed from epoch', 'Started', 'Ended', 'Failure'],
              job.attempts.map((a) =>
                h(
                  'tr',
                  {},
                  h('td', {}, a.attempt),
                  h('td', {}, a.status),
                  h('td', {}, a.resumedFromEpoch ?? '—'),
                  h('td', {}, formatTime(a.startedAt)),
                  h('td', {}, formatTime(a.endedAt)),
                  h('td', {}, a.error ? `${a.error.code}: ${a.error.message}` : '—'),
                ),
              ),
            ),
          ),
          h(
            'section',
            { 'aria-labelledby': 'artifacts-title' },
            h('h2', { id: 'artifacts-title' }, 'Artifacts'),
            job.artifacts.length
              ? table(
                  'Artifacts',
                  ['Kind', 'Epoch', 'Size', 'sha256', ''],
                  job.artifacts.map((a) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, a.kind),
                      h('td', {}, a.epoch ?? '—'),
                      h('td', {}, formatBytes(a.bytes)),
                      h('td', { class: 'mono' }, a.sha256 ? `${a.sha256.slice(0, 12)}…` : '—'),
                      h(
                        'td',
                        {},
                        h(
                          'button',
                          {
                            type: 'button',
                            'data-artifact': a.kind,
                            'data-key': `download-${a.kind}`,
                            'aria-label': `Download ${a.kind}`,
                            onclick: () =>
                              void download(api, job, a).catch((err: Error) => toast(err.message)),
                          },
                          'Download',
                        ),
                      ),
                    ),
                  ),
                )
              : h('p', { class: 'muted' }, 'None yet: checkpoints appear here as the training saves them.'),
          ),
        ),
      );
    };

    let refreshing: Promise<void> | undefined;
    let lastRefresh = 0;
    let later: ReturnType<typeof setTimeout> | undefined;
    signal.addEventListener('abort', () => clearTimeout(later));
    const refreshJob = () => {
      if (refreshing || later) return;
      // Throttled, not dropped: an event just after a refresh (a checkpoint after its epoch) shows shortly.
      const wait = lastRefresh + JOB_REFRESH_MS - Date.now();
      if (wait > 0) {
        later = setTimeout(() => {
          later = undefined;
          refreshJob();
        }, wait);
        return;
      }
      refreshing = api
        .job(id)
        .then((fresh) => {
          job = fresh;
          lastRefresh = Date.now();
          renderSummary();
        })
        .catch(() => undefined)
        .finally(() => {
          refreshing = undefined;
        });
    };

    /** Reads the events from the first; charts grow with each progress event, the rest refreshes the job. */
    let following = false;
    const follow = async () => {
      if (following) return;
      following = true;
      try {
        for await (const event of api.events(id, signal)) {
          if (history.add(event)) charts.redraw();
          if (event.type !== 'log') refreshJob();
        }
        await refreshing;
        job = await api.job(id);
        renderSummary();
      } catch (err) {
        if (!signal.aborted) toast(`Live updates stopped: ${(err as Error).message}`);
      } finally {
        following = false;
      }
    };

    const showLog = async () => {
      const open = logButton.getAttribute('aria-expanded') === 'true';
      logButton.setAttribute('aria-expanded', String(!open));
      logButton.textContent = open ? 'Show log' : 'Hide log';
      log.hidden = open;
      if (open || log.dataset.loaded) return;
      log.dataset.loaded = 'true';
      // A reopen after an error reads the log again from its start.
      log.textContent = '';
      try {
        for await (const text of api.log(id, signal)) {
          const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
          log.append(text);
          if (atBottom) log.scrollTop = log.scrollHeight;
        }
      } catch (err) {
        if (!signal.aborted) log.append(`\n[${(err as Error).message}]`);
        delete log.dataset.loaded;
      }
    };
    logButton.addEventListener('click', () => void showLog());

    renderSummary();
    clear(
      main,
      h('p', {}, h('a', { href: '#/jobs' }, '← Jobs'), ' · ', h('a', { href: '#/compare' }, 'Compare jobs')),
      summary,
      h(
        'section',
        { 'aria-labelledby': 'charts-title' },
        h('h2', { id: 'charts-title' }, 'Metrics per epoch'),
        chartsHost,
      ),
      h(
        'section',
        { 'aria-labelledby': 'log-title' },
        h('div', { class: 'heading' }, h('h2', { id: 'log-title' }, 'Log'), logButton),
        log,
      ),
    );
    charts.redraw();
    void follow();
  };
