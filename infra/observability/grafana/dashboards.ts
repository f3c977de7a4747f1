/**
 * The platform's Grafana dashboards, as code (@grafana/grafana-foundation-sdk): the platform (queue, running,
 * outcomes, SLOs), one job's journey (queue wait -> hand-over -> first epoch -> training, by framework) and the
 * trainers (outbox, transfers, runner exits). `npm run observability --workspace @vtp/infra` writes them to
 * grafana/dashboards/*.json; a test fails when the committed JSON drifts from this file, and the real-Prometheus
 * test runs every query in them. Queries read the records of prometheus/rules.yaml where one exists.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  DashboardBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** The data source every dashboard uses: provisioned with this uid in Compose, Kind and production. */
export const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' };

interface Query {
  expr: string;
  legend: string;
}

const target = ({ expr, legend }: Query, i: number) =>
  new DataqueryBuilder()
    .expr(expr)
    .legendFormat(legend)
    .refId(String.fromCharCode(65 + i));

/** A line above which the panel turns red: the SLO or alert threshold it shows. */
const limit = (value: number) =>
  new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'green' },
    { value, color: 'red' },
  ]);

function graph(title: string, unit: string, queries: Query[], options: { threshold?: number } = {}) {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .datasource(PROMETHEUS)
    .unit(unit)
    .span(12)
    .height(8)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    );
  queries.forEach((q, i) => {
    panel.withTarget(target(q, i));
  });
  if (options.threshold !== undefined)
    panel
      .thresholds(limit(options.threshold))
      .thresholdsStyle(
        new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line),
      );
  return panel;
}

function single(title: string, unit: string, query: Query, threshold?: number) {
  const panel = new stat.PanelBuilder()
    .title(title)
    .datasource(PROMETHEUS)
    .unit(unit)
    .span(6)
    .height(4)
    .withTarget(target(query, 0));
  if (threshold !== undefined) panel.thresholds(limit(threshold));
  return panel;
}

function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['vtp'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser');
}

/** The percentile of a histogram by framework over 5 minutes. */
const quantile = (q: number, metric: string): Query => ({
  expr: `histogram_quantile(${q}, sum by (framework, le) (rate(${metric}_bucket[5m])))`,
  legend: `{{framework}} p${Math.round(q * 100)}`,
});

function platform(): Dashboard {
  return dashboard(
    'vtp-platform',
    'VTP / Platform',
    'Jobs queued and running, outcomes and failures, the service-level targets, dispatch and the backend API.',
  )
    .withRow(new RowBuilder('Service-level targets'))
    .withPanel(
      single('Job success, last hour (target 95 %)', 'percentunit', {
        expr: 'min(framework:vtp_job_success:ratio_rate1h)',
        legend: 'success',
      }),
    )
    .withPanel(
      single(
        'p95 callback latency (target 5 s)',
        's',
        { expr: ':vtp_callback_latency_seconds:p95_5m', legend: 'p95' },
        5,
      ),
    )
    .withPanel(
      single('Jobs running', 'short', {
        expr: 'sum(framework_status:vtp_jobs:max{status=~"dispatching|running"})',
        legend: 'running',
      }),
    )
    .withPanel(
      single(
        'Longest wait in the queue',
        's',
        { expr: 'max(framework:vtp_jobs_oldest_queued_age_seconds:max)', legend: 'oldest' },
        1800,
      ),
    )
    .withPanel(
      graph(
        'Job success ratio by framework, last hour',
        'percentunit',
        [{ expr: 'framework:vtp_job_success:ratio_rate1h', legend: '{{framework}}' }],
        { threshold: 0.95 },
      ),
    )
    .withPanel(
      graph(
        'p95 callback latency by event type',
        's',
        [{ expr: 'event_type:vtp_callback_latency_seconds:p95_5m', legend: '{{event_type}}' }],
        { threshold: 5 },
      ),
    )
    .withRow(new RowBuilder('Jobs'))
    .withPanel(
      graph('Jobs by status', 'short', [
        {
          expr: 'sum by (status) (framework_status:vtp_jobs:max{status=~"queued|dispatching|running"})',
          legend: '{{status}}',
        },
      ]),
    )
    .withPanel(
      graph('Jobs ended per hour, by outcome', 'short', [
        { expr: 'framework_outcome:vtp_jobs_finished:increase1h', legend: '{{framework}} {{outcome}}' },
      ]),
    )
    .withPanel(
      graph('Failed attempts per hour, by reason', 'short', [
        {
          expr: 'sum by (reason) (increase(vtp_job_attempt_failures_total[1h]))',
          legend: '{{reason}}',
        },
      ]),
    )
    .withPanel(
      graph('Retries and resumes per hour', 'short', [
        { expr: 'sum by (framework) (increase(vtp_job_retries_total[1h]))', legend: '{{framework}} retries' },
        { expr: 'sum by (framework) (increase(vtp_job_resumes_total[1h]))', legend: '{{framework}} resumes' },
      ]),
    )
    .withPanel(
      graph(
        'Oldest queued job and longest silence of a running one',
        's',
        [
          { expr: 'framework:vtp_jobs_oldest_queued_age_seconds:max', legend: '{{framework}} queued' },
          { expr: 'framework:vtp_jobs_oldest_progress_age_seconds:max', legend: '{{framework}} no progress' },
        ],
        { threshold: 1800 },
      ),
    )
    .withPanel(
      graph('Hand-over failures per second, by reason', 'ops', [
        { expr: 'framework_reason:vtp_dispatch_failures:rate5m', legend: '{{framework}} {{reason}}' },
      ]),
    )
    .withRow(new RowBuilder('Callbacks and API'))
    .withPanel(
      graph('Trainer events per second, by result', 'ops', [
        { expr: 'sum by (result) (rate(vtp_callback_events_total[5m]))', legend: '{{result}}' },
      ]),
    )
    .withPanel(
      graph('Refused callbacks per second, by reason', 'ops', [
        { expr: 'sum by (reason) (rate(vtp_callbacks_refused_total[5m]))', legend: '{{reason}}' },
      ]),
    )
    .withPanel(
      graph('API requests per second, by route', 'reqps', [
        {
          expr: 'sum by (route) (rate(vtp_backend_http_request_duration_seconds_count[5m]))',
          legend: '{{route}}',
        },
      ]),
    )
    .withPanel(
      graph('API latency p50 / p95', 's', [
        {
          expr: 'histogram_quantile(0.5, sum by (le) (rate(vtp_backend_http_request_duration_seconds_bucket[5m])))',
          legend: 'p50',
        },
        {
          expr: 'histogram_quantile(0.95, sum by (le) (rate(vtp_backend_http_request_duration_seconds_bucket[5m])))',
          legend: 'p95',
        },
      ]),
    )
    .withPanel(
      graph('API answers per second, by status', 'reqps', [
        {
          expr: 'sum by (status) (rate(vtp_backend_http_request_duration_seconds_count[5m]))',
          legend: '{{status}}',
        },
      ]),
    )
    .withPanel(
      graph('Backend resident memory', 'bytes', [
        { expr: 'vtp_backend_process_resident_memory_bytes', legend: '{{instance}}' },
      ]),
    )
    .build();
}

function journey(): Dashboard {
  const stage = (title: string, metric: string) =>
    graph(title, 's', [quantile(0.5, metric), quantile(0.95, metric)]);
  return dashboard(
    'vtp-job-journey',
    'VTP / Job journey',
    "Where a job's time goes, by framework: waiting in the queue, the hand-over to its trainer, the way to the end of its first epoch (dataset download, runner start, one epoch) and the training.",
  )
    .withRow(new RowBuilder('Before training'))
    .withPanel(stage('Queue wait (queued -> handed over)', 'vtp_job_queue_wait_seconds'))
    .withPanel(stage('Hand-over (claimed -> trainer accepted)', 'vtp_job_handover_duration_seconds'))
    .withPanel(
      stage('Time to first epoch (handed over -> epoch 1 done)', 'vtp_job_time_to_first_epoch_seconds'),
    )
    .withPanel(
      graph('Hand-overs per minute', 'short', [
        {
          expr: 'sum by (framework) (rate(vtp_job_handover_duration_seconds_count[5m])) * 60',
          legend: '{{framework}}',
        },
      ]),
    )
    .withRow(new RowBuilder('Training'))
    .withPanel(
      graph('Training duration of an attempt, p50 / p95 by outcome', 's', [
        {
          expr: 'histogram_quantile(0.5, sum by (framework, outcome, le) (rate(vtp_job_training_duration_seconds_bucket[1h])))',
          legend: '{{framework}} {{outcome}} p50',
        },
        {
          expr: 'histogram_quantile(0.95, sum by (framework, outcome, le) (rate(vtp_job_training_duration_seconds_bucket[1h])))',
          legend: '{{framework}} {{outcome}} p95',
        },
      ]),
    )
    .withPanel(
      graph('Attempts ended per hour, by outcome', 'short', [
        {
          expr: 'sum by (framework, outcome) (increase(vtp_job_training_duration_seconds_count[1h]))',
          legend: '{{framework}} {{outcome}}',
        },
      ]),
    )
    .build();
}

function trainers(): Dashboard {
  const bytesPerSecond = (metric: string, by: string) => ({
    expr: `sum by (${by}) (rate(${metric}[5m]))`,
    legend: `{{${by}}}`,
  });
  const p95 = (metric: string, by: string) => ({
    expr: `histogram_quantile(0.95, sum by (${by}, le) (rate(${metric}_bucket[5m])))`,
    legend: `{{${by}}} p95`,
  });
  return dashboard(
    'vtp-trainers',
    'VTP / Trainers',
    'Trainer services: up, trainings, callback delivery (outbox, requests, circuit breakers), transfers and runner exits.',
  )
    .withRow(new RowBuilder('Trainers'))
    .withPanel(graph('Trainers up', 'short', [{ expr: 'up{job="vtp-trainer"}', legend: '{{instance}}' }]))
    .withPanel(
      graph('Active trainings', 'short', [{ expr: 'vtp_trainer_active_trainings', legend: '{{instance}}' }]),
    )
    .withRow(new RowBuilder('Callback delivery'))
    .withPanel(
      graph('Undelivered callback events', 'short', [
        { expr: 'vtp_trainer_pending_callback_events', legend: '{{instance}}' },
      ]),
    )
    .withPanel(
      graph(
        'Oldest undelivered event',
        's',
        [{ expr: 'vtp_trainer_oldest_pending_callback_event_age_seconds', legend: '{{instance}}' }],
        { threshold: 300 },
      ),
    )
    .withPanel(
      graph('Callback requests per second, by outcome', 'reqps', [
        { expr: 'sum by (outcome) (rate(vtp_trainer_callback_requests_total[5m]))', legend: '{{outcome}}' },
      ]),
    )
    .withPanel(
      graph('Circuit breakers by state', 'short', [
        { expr: 'sum by (state) (vtp_trainer_callback_circuits)', legend: '{{state}}' },
      ]),
    )
    .withRow(new RowBuilder('Transfers'))
    .withPanel(
      graph('Download and extraction throughput', 'Bps', [
        bytesPerSecond('vtp_trainer_download_bytes_total', 'object'),
        { expr: 'sum(rate(vtp_trainer_dataset_extracted_bytes_total[5m]))', legend: 'extracted' },
      ]),
    )
    .withPanel(
      graph('Upload throughput by artifact kind', 'Bps', [
        bytesPerSecond('vtp_trainer_artifact_upload_bytes_total', 'kind'),
      ]),
    )
    .withPanel(
      graph('Download, extraction and upload p95 durations', 's', [
        p95('vtp_trainer_download_duration_seconds', 'object'),
        {
          expr: 'histogram_quantile(0.95, sum by (le) (rate(vtp_trainer_dataset_extract_duration_seconds_bucket[5m])))',
          legend: 'extract p95',
        },
        p95('vtp_trainer_artifact_upload_duration_seconds', 'kind'),
      ]),
    )
    .withPanel(
      graph('Runner exits per hour, by outcome and reason', 'short', [
        {
          expr: 'sum by (outcome, reason) (increase(vtp_trainer_runner_exits_total[1h]))',
          legend: '{{outcome}} {{reason}}',
        },
      ]),
    )
    .build();
}

/** Every dashboard, by the file name it is provisioned from. */
export function dashboards(): Record<string, Dashboard> {
  return { 'platform.json': platform(), 'job-journey.json': journey(), 'trainers.json': trainers() };
}
