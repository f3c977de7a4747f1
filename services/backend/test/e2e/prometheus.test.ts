// The platform's Prometheus rules against the real thing: the `prometheus` binary (Debian's package, which
// `npm test` installs when missing) scrapes a real backend and a real timm trainer while a real training runs,
// evaluates infra/observability/prometheus/rules.yaml, and answers through its HTTP API.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@vtp/service-kit';
import type { Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { TrainerProcess } from '../../src/execution/local/trainerProcess.ts';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { startTimmTrainer } from '../support/trainerService.ts';
import { repoRoot, waitFor, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

const TOKEN = 'trainer-token-prometheus-0123456789';
const RULES = join(repoRoot, 'infra/observability/prometheus/rules.yaml');
const DASHBOARDS = join(repoRoot, 'infra/observability/grafana/dashboards');

interface RuleGroup {
  name: string;
  rules: { record?: string; alert?: string; for?: string }[];
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('Prometheus scraping a backend and a trainer running a real training', () => {
  let t: TestBackend;
  let user: ApiClient;
  let trainer: TrainerProcess;
  let dir: string;
  let prometheus: ChildProcess;
  let api: string;
  const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: RuleGroup[] }).groups;
  const records = groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
  /** Every query of every panel of the committed dashboards, named by dashboard and panel. */
  const panelQueries = readdirSync(DASHBOARDS).flatMap((file) => {
    const board = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    return board.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ name: `${file}: ${p.title}`, expr: t.expr })),
    );
  });

  async function query<T>(path: string): Promise<T> {
    const res = await fetch(`${api}${path}`);
    const body = (await res.json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body.data;
  }
  const instant = (promql: string) =>
    query<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`).then((d) => d.result);

  beforeAll(async () => {
    t = await startTestBackend({ RUN_DISPATCHER: 'true', TRAINER_TOKEN: TOKEN, MONITOR_INTERVAL_MS: '500' });
    ({ trainer } = await startTimmTrainer(t, TOKEN));
    const trainerUrl = (await trainer.ensure()).url;
    t.env.TRAINER_URLS = `timm=${trainerUrl}`;
    await t.restart();
    user = await t.newUser();

    dir = await mkdtemp(join(tmpdir(), 'vtp-prometheus-'));
    // The rules as written, but each alert's `for` cut to 0: the test sees an alert fire within seconds, not
    // minutes (promtool's unit tests cover the delays).
    const rules = {
      groups: groups.map((g) => ({ ...g, rules: g.rules.map((r) => (r.alert ? { ...r, for: '0s' } : r)) })),
    };
    await writeFile(join(dir, 'rules.yaml'), stringify(rules));
    const target = (url: string) => new URL(url).host;
    await writeFile(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yaml')],
        scrape_configs: [
          { job_name: 'vtp-backend', static_configs: [{ targets: [target(t.backend.url)] }] },
          { job_name: 'vtp-trainer', static_configs: [{ targets: [target(trainerUrl)] }] },
        ],
      }),
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prometheus.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    prometheus.once('error', (err) => {
      log += `\n${err.message} (npm test installs Prometheus: npm run test-tools:prometheus)`;
    });
    await waitFor(`Prometheus ready on ${api}`, async () =>
      fetch(`${api}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${log}`);
    });
  });
  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    if (prometheus && prometheus.exitCode === null)
      await new Promise((done) => prometheus.once('exit', done));
    await trainer?.stop();
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('evaluates every recording rule and dashboard query to data after a real job, and fires VtpTrainerDown when the trainer stops', {
    // About 40 s on an idle 2-core machine, 75 s with it loaded by other work: the training is most of it.
    timeout: 240_000,
  }, async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const created = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: dataset.id,
      hyperparameters: { epochs: 1, imgsz: 32, batch: 4 },
    });
    expect(created.status).toBe(201);
    const job = await waitForJob(user, created.body.id, (j) => ['succeeded', 'failed'].includes(j.status));
    expect(job.status).toBe('succeeded');
    // A trainer's report with a wrong token: the refused-callbacks panel has something to show.
    const refused = await t.anonymous.post(`/v1/jobs/${job.id}/callback`, {}, { key: 'vtpcb_not_the_token' });
    expect(refused.status).toBe(401);

    // Both targets are scraped, and every rule loaded and evaluates without error.
    await waitFor('both targets up', async () => (await instant('up == 1')).length === 2, 20_000);
    const loaded = await query<{
      groups: { rules: { name: string; health: string; lastError?: string }[] }[];
    }>('/api/v1/rules');
    const health = loaded.groups.flatMap((g) => g.rules).map((r) => [r.name, r.health, r.lastError ?? '']);
    expect(health).toHaveLength(groups.flatMap((g) => g.rules).length);
    for (const [name, state, error] of health) expect([name, state, error]).toEqual([name, 'ok', '']);

    // Each record has data once the job's counts and histograms are scraped and evaluated.
    const empty = async () => {
      const missing: string[] = [];
      for (const record of records) if ((await instant(record)).length === 0) missing.push(record);
      return missing;
    };
    await waitFor('data for every recording rule', async () => (await empty()).length === 0, 20_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}: none yet for ${(await empty()).join(', ')}`);
      },
    );
    // And so has every dashboard panel's query (the trainer still runs: its panels too).
    const blank = async () => {
      const missing: string[] = [];
      for (const { name, expr } of panelQueries) if ((await instant(expr)).length === 0) missing.push(name);
      return missing;
    };
    expect(panelQueries.length).toBeGreaterThan(30);
    await waitFor('data for every dashboard query', async () => (await blank()).length === 0, 20_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}: none yet for ${(await blank()).join(', ')}`);
      },
    );
    const value = async (promql: string) => Number((await instant(promql))[0]?.value[1]);
    expect(
      await value('framework_outcome:vtp_jobs_finished:increase1h{framework="timm",outcome="succeeded"}'),
    ).toBeGreaterThan(0);
    expect(await value('framework:vtp_job_success:ratio_rate1h{framework="timm"}')).toBe(1);
    expect(await value('framework_status:vtp_jobs:max{framework="timm",status="succeeded"}')).toBe(1);
    expect(await value(':vtp_callback_latency_seconds:p95_5m')).toBeLessThan(5);
    expect(await instant('ALERTS{alertstate="firing"}')).toEqual([]);

    // The trainer stops: its scrapes fail, and the alert fires.
    await trainer.stop();
    await waitFor(
      'VtpTrainerDown firing',
      async () =>
        (
          await query<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')
        ).alerts.some((a) => a.labels.alertname === 'VtpTrainerDown' && a.state === 'firing'),
      20_000,
    );
    const firing = await instant('ALERTS{alertstate="firing"}');
    expect(firing.map((s) => [s.metric.alertname, s.metric.job])).toEqual([
      ['VtpTrainerDown', 'vtp-trainer'],
    ]);
  });
});
