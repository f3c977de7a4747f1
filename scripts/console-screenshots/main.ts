// `npm run console:screenshots`: pictures of the web console for the README, taken by the same headless
// Chromium the console's browser test drives, of real trainings. Starts the platform on its embedded defaults
// (under .data/console-screenshots, emptied first), trains three timm classifiers with different settings,
// then photographs a finished job's page (laptop and phone widths) and the compare view into docs/.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createVtpClient, type Job, unwrap } from '@vtp/client';
import { generateImagefolder, zipBuffer } from '@vtp/sample-data';
import type { Page } from 'playwright-core';
import { preparePythonEnv } from '../../packages/trainer-runtime/src/python-env/index.ts';
import { launchChromium } from '../../services/backend/test/support/browser.ts';
import { startPlatform } from '../demo/platform.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const dataDir = join(repoRoot, '.data', 'console-screenshots');
const docs = join(repoRoot, 'docs');
const EPOCHS = 10;
/** Three runs that differ in what a user would tune first. */
const RUNS = [
  { lr: 0.001, batch: 8 },
  { lr: 0.003, batch: 8 },
  { lr: 0.0003, batch: 4 },
];
const say = (line: string) => process.stdout.write(`[screenshots] ${line}\n`);

/** Waits until every chart under `selector` shows `points` epochs, then for uPlot's next frame. */
async function waitForCharts(page: Page, selector: string, points: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const charts = await page.locator(selector).all();
    const shown = await Promise.all(charts.map((chart) => chart.getAttribute('data-points')));
    if (shown.length > 0 && shown.every((n) => n === String(points))) break;
    if (Date.now() > deadline)
      throw new Error(`charts ${selector} show ${shown.join(', ')} points, not ${points}`);
    await page.waitForTimeout(200);
  }
  await page.waitForTimeout(500);
}

async function main(): Promise<void> {
  await preparePythonEnv(repoRoot);
  await rm(dataDir, { recursive: true, force: true });
  const platform = await startPlatform(repoRoot, dataDir, () => undefined, {
    MAX_JOBS_PER_FRAMEWORK: String(RUNS.length),
    MAX_JOBS_PER_USER: String(RUNS.length),
  });
  try {
    const admin = createVtpClient({ baseUrl: platform.url, apiKey: platform.adminKey });
    const { key } = unwrap(await admin.api.POST('/v1/api-keys', { body: { user: 'ada@example.com' } }));
    const vtp = createVtpClient({ baseUrl: platform.url, apiKey: key });
    const zip = await zipBuffer(generateImagefolder({ seed: 7, trainPerClass: 12, valPerClass: 6 }).entries);
    const dataset = await vtp.uploadDataset({
      name: 'shapes',
      format: 'imagefolder',
      file: new Blob([new Uint8Array(zip)]),
      filename: 'shapes.zip',
    });
    const jobs: Job[] = [];
    for (const run of RUNS)
      jobs.push(
        unwrap(
          await vtp.api.POST('/v1/jobs', {
            body: {
              framework: 'timm',
              model: 'test_resnet',
              datasetId: dataset.id,
              hyperparameters: { epochs: EPOCHS, imgsz: 64, ...run },
            } as never,
          }),
        ),
      );
    say(`training ${jobs.length} timm test_resnet classifiers, ${EPOCHS} epochs each`);
    await Promise.all(
      jobs.map(async (job) => {
        for await (const _ of vtp.followJob(job.id)) {
          // Drained to the end: the stream ends when the job has.
        }
      }),
    );
    const ids = jobs.map((job) => job.id);
    for (const id of ids) {
      const job = unwrap(await vtp.api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
      say(`${id.slice(0, 8)} ${job.status} ${JSON.stringify(job.latestMetrics)}`);
      if (job.status !== 'succeeded') throw new Error(`job ${id} ${job.status}: ${job.error?.message}`);
    }

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(platform.url);
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.goto(`${platform.url}/#/jobs/${ids[0]}`);
      await waitForCharts(page, '#charts [data-metric-chart]', EPOCHS);
      await page.screenshot({ path: join(docs, 'console-job.png'), fullPage: true });
      await page.goto(`${platform.url}/#/compare?jobs=${ids.join(',')}`);
      await waitForCharts(page, '#compare-charts [data-metric-chart]', EPOCHS);
      await page.screenshot({ path: join(docs, 'console-compare.png'), fullPage: true });
      // The same job on a phone-sized screen, scrolled to its charts.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${platform.url}/#/jobs/${ids[0]}`);
      await waitForCharts(page, '#charts [data-metric-chart]', EPOCHS);
      await page.locator('#charts-title').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(docs, 'console-job-phone.png') });
    } finally {
      await browser.close();
    }
    say(`wrote docs/console-job.png, docs/console-job-phone.png, docs/console-compare.png`);
  } finally {
    await platform.stop();
  }
}

await main();
