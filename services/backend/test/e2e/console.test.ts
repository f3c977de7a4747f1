/// <reference lib="dom" />
// The functions given to page.evaluate run in the browser.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job } from '@vtp/shared-schemas';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../support/apiClient.ts';
import { launchChromium } from '../support/browser.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { finished, trainerPython, waitForJob } from '../support/training.ts';
import { sampleZip } from '../support/uploads.ts';

const EPOCHS = 6;

/**
 * The web console in a real headless Chromium against the real backend, real trainer processes and real timm
 * trainings: what a user does, through the page only.
 */
describe('web console in a browser (real trainings)', { timeout: 300_000 }, () => {
  let t: TestBackend;
  let user: ApiClient;
  let browser: Browser;
  let page: Page;
  const requested: string[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    trainerPython();
    t = await startTestBackend({
      RUN_DISPATCHER: 'true',
      MONITOR_INTERVAL_MS: '500',
      HEARTBEAT_TIMEOUT_SECONDS: '20',
    });
    user = await t.newUser('ada@example.com');
    browser = await launchChromium();
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    page.on('request', (request) => requested.push(request.url()));
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const badge = () => page.locator('h1 .badge').getAttribute('data-status');
  const firstChartPoints = async () =>
    Number((await page.locator('[data-metric-chart]').first().getAttribute('data-points')) ?? 0);

  it('signs in, uploads a dataset with progress, and sees its classes and image counts', async () => {
    await page.goto(t.backend.url);
    await page.getByLabel('API key').fill(user.key as string);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();

    const zip = join(t.dataDir, 'shapes.zip');
    await writeFile(zip, await sampleZip('imagefolder'));
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByLabel('Zip file').setInputFiles(zip);
    await page.getByLabel('Format').selectOption('imagefolder');
    // The progress bar's values as the upload goes (an observer in the page; the console's own code is untouched).
    await page.evaluate(() => {
      const bar = document.getElementById('upload-progress') as HTMLProgressElement;
      const values: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = values;
      new MutationObserver(() => values.push(bar.value)).observe(bar, { attributes: true });
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent(), { timeout: 30_000 })
      .toMatch(/Uploaded shapes: 15 images, 3 classes/);
    const progress = await page.evaluate(
      () => (window as unknown as { progressSeen: number[] }).progressSeen,
    );
    expect(progress).toContain(1);
    await page.getByRole('link', { name: 'shapes' }).click();
    await page.getByRole('heading', { name: 'Classes (3)' }).waitFor();
    expect(await page.locator('.classes li').allTextContents()).toEqual(['blue', 'green', 'red']);
    expect(await page.getByRole('table', { name: 'Image counts' }).textContent()).toContain('train9');
  });

  let trainedId = '';
  it('starts a training and watches its charts gain points while it runs, then reads its log', async () => {
    await page.getByRole('link', { name: 'Train on this dataset' }).click();
    await page.getByLabel('Model', { exact: true }).selectOption('test_resnet');
    await page.getByLabel('Epochs').fill(String(EPOCHS));
    await page.getByLabel('Image size').fill('64');
    await page.getByLabel('Batch size').fill('4');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    trainedId = page.url().split('/').at(-1) as string;

    // Every distinct point count the first chart showed, with the job's status then: it must grow while running.
    const seen: { points: number; status: string | null }[] = [];
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      const points = (await page.locator('[data-metric-chart]').count()) ? await firstChartPoints() : 0;
      const status = await badge();
      if (points !== seen.at(-1)?.points || status !== seen.at(-1)?.status) seen.push({ points, status });
      if (status === 'succeeded' && points === EPOCHS) break;
      await page.waitForTimeout(100);
    }
    const whileRunning = seen.filter((s) => s.status === 'running' && s.points > 0 && s.points < EPOCHS);
    expect(whileRunning.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(1);
    expect(seen.map((s) => s.points)).toEqual([...seen.map((s) => s.points)].sort((a, b) => a - b));
    expect(seen.at(-1)).toEqual({ points: EPOCHS, status: 'succeeded' });
    // Every metric the job reported has a chart, with every epoch in it.
    const job = (await user.get<Job>(`/v1/jobs/${trainedId}`)).body;
    const charted = await page
      .locator('[data-metric-chart]')
      .evaluateAll((figs) => figs.map((f) => ({ ...(f as HTMLElement).dataset })));
    expect(charted.length).toBeGreaterThanOrEqual(2);
    for (const chart of charted) expect(chart.points).toBe(String(EPOCHS));
    expect(charted.flatMap((chart) => chart.series?.split('\n') ?? []).sort()).toEqual(
      Object.keys(job.latestMetrics ?? {}).sort(),
    );

    await page.getByRole('button', { name: 'Show log' }).click();
    await expect.poll(() => page.locator('#job-log').textContent(), { timeout: 30_000 }).toMatch(/epoch/i);
    expect(await page.getByRole('button', { name: 'Hide log' }).getAttribute('aria-expanded')).toBe('true');
  });

  it('downloads the best checkpoint, byte for byte what the trainer stored', async () => {
    const job = (await user.get<Job>(`/v1/jobs/${trainedId}`)).body;
    const best = job.artifacts.find((a) => a.kind === 'best');
    expect(best?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download best' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(best?.uri.split('/').at(-1));
    const saved = join(t.dataDir, 'downloaded-best');
    await download.saveAs(saved);
    const bytes = await readFile(saved);
    expect(bytes.length).toBe(best?.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(best?.sha256);
  });

  let cancelledId = '';
  it('cancels a second, running job from its page', async () => {
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('link', { name: 'New training' }).click();
    await page.getByLabel('Framework', { exact: true }).selectOption('timm');
    await page.getByLabel('Model', { exact: true }).selectOption('test_resnet');
    await page.getByLabel('Epochs').fill('500');
    await page.getByLabel('Batch size').fill('2');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    cancelledId = page.url().split('/').at(-1) as string;
    await expect.poll(firstChartPoints, { timeout: 180_000 }).toBeGreaterThanOrEqual(1);
    expect(await badge()).toBe('running');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(badge, { timeout: 60_000 }).toBe('cancelled');
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    expect((await waitForJob(user, cancelledId, finished)).status).toBe('cancelled');
  });

  it('lists both jobs with their status, filters them, and overlays their curves in the compare view', async () => {
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const rows = page.locator('tbody tr[data-job-id]');
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByLabel('Status', { exact: true }).selectOption('cancelled');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-job-id')).toBe(cancelledId);
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await expect.poll(() => rows.count()).toBe(2);
    for (const id of [trainedId, cancelledId]) await page.locator(`tr[data-job-id="${id}"] input`).check();
    await page.getByRole('link', { name: 'Compare selected (2)' }).click();
    await page.locator('#compare-charts [data-metric-chart]').first().waitFor();
    await expect
      .poll(() => page.locator('#compare-charts [data-metric-chart="val/top1"]').getAttribute('data-points'))
      .toBe(String(EPOCHS));
    const legend = await page
      .locator('#compare-charts [data-metric-chart="val/top1"] .u-legend')
      .textContent();
    for (const id of [trainedId, cancelledId]) expect(legend).toContain(id.slice(0, 8));
  });

  it('never puts the API key in a URL, keeps it in session storage only, and breaks no CSP rule', async () => {
    const key = user.key as string;
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((url) => url.includes(key))).toEqual([]);
    expect(page.url()).not.toContain(key);
    const stored = await page.evaluate(() => ({
      session: Object.values(sessionStorage),
      local: Object.keys(localStorage).length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ session: [key], local: 0, cookies: '' });
    expect(cspViolations).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
