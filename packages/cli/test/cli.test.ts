import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset, Job, TrainerModel } from '@vtp/client';
import { generateImagefolder, generateYolo, writeDirectory, zipBuffer } from '@vtp/sample-data';
import { freePort } from '@vtp/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '../../../services/backend/test/support/testBackend.ts';
import { json, runVtp } from './runVtp.ts';

/** The real `vtp` binary against the real backend (PostgreSQL, S3 server); jobs here are never dispatched. */
describe('vtp', () => {
  let t: TestBackend;
  let scratch: string;
  let env: Record<string, string>;
  const ESC = '\u001b';

  beforeAll(async () => {
    t = await startTestBackend();
    scratch = await mkdtemp(join(tmpdir(), 'vtp-cli-test-'));
    env = {
      VTP_URL: t.backend.url,
      VTP_API_KEY: (await t.newUser()).key as string,
      XDG_CONFIG_HOME: join(scratch, 'env-config'),
    };
  });
  afterAll(async () => {
    await t?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('--help lists the commands and the exit codes; a bad command exits 2', async () => {
    const help = await runVtp(['--help'], {});
    expect(help.code).toBe(0);
    for (const command of ['login', 'datasets', 'train', 'jobs', 'models'])
      expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*1 {2}the training failed/);
    const bad = await runVtp(['datasets', 'frobnicate'], {});
    expect(bad.code).toBe(2);
    expect((await runVtp(['datasets', 'ls'], { XDG_CONFIG_HOME: join(scratch, 'nobody') })).stderr).toBe(
      'vtp: not logged in: run `vtp login`, or set VTP_URL and VTP_API_KEY\n',
    );
  });

  it('login checks the key, then saves it for its owner only; the saved connection serves later commands', async () => {
    const config = join(scratch, 'login-config');
    const key = env.VTP_API_KEY ?? '';
    const refused = await runVtp(
      ['login', '--url', t.backend.url],
      { XDG_CONFIG_HOME: config },
      { input: 'vtp_wrong\n' },
    );
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^vtp: 401 [a-z_]+: .+\n$/);
    await expect(stat(join(config, 'vtp', 'config.json'))).rejects.toThrow();

    const login = await runVtp(
      ['login', '--url', t.backend.url],
      { XDG_CONFIG_HOME: config },
      { input: `${key}\n` },
    );
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${t.backend.url} as user`);
    const file = join(config, 'vtp', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: t.backend.url, apiKey: key });

    expect(json<Dataset[]>(await runVtp(['datasets', 'ls', '--json'], { XDG_CONFIG_HOME: config }))).toEqual(
      [],
    );
    // The environment overrides the saved key.
    const overridden = await runVtp(['datasets', 'ls'], {
      XDG_CONFIG_HOME: config,
      VTP_API_KEY: 'vtp_wrong',
    });
    expect(overridden.code).toBe(3);
  });

  it('datasets: upload a folder and a zip, list, show by name, delete; plain text off a terminal', async () => {
    const folder = join(scratch, 'shapes');
    await writeDirectory(generateImagefolder({ seed: 1, trainPerClass: 3, valPerClass: 2 }).entries, folder);
    const fromFolder = json<Dataset>(
      await runVtp(['datasets', 'upload', folder, '--format', 'imagefolder', '--json'], env),
    );
    expect(fromFolder).toMatchObject({
      name: 'shapes',
      format: 'imagefolder',
      imageCounts: { train: 9, val: 6 },
    });

    const zip = join(scratch, 'boxes.zip');
    await writeFile(zip, await zipBuffer(generateYolo({ seed: 2, trainImages: 4, valImages: 2 }).entries));
    const upload = await runVtp(['datasets', 'upload', zip, '--format', 'yolo', '--name', 'boxes'], env);
    expect(upload.code).toBe(0);
    expect(upload.stdout).toMatch(/^Uploaded [0-9a-f-]{36}\n/);
    expect(upload.stdout).not.toContain(ESC);

    const list = await runVtp(['datasets', 'ls'], env);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +NAME +FORMAT +CLASSES/);
    expect(list.stdout).toMatch(/boxes +yolo/);
    expect(list.stdout).toMatch(/shapes +imagefolder +3 +9\/6\/0/);
    expect(list.stdout).not.toContain(ESC);

    const shown = json<Dataset>(await runVtp(['datasets', 'show', 'boxes', '--json'], env));
    expect(shown.imageCounts).toEqual({ train: 4, val: 2, test: 0 });
    expect((await runVtp(['datasets', 'rm', 'boxes'], env)).stdout).toContain(`Deleted ${shown.id}`);
    const gone = await runVtp(['datasets', 'show', 'boxes'], env);
    expect(gone).toMatchObject({ code: 3, stderr: 'vtp: no dataset named "boxes"\n' });
  });

  it('a refused upload exits 3 with one line naming the file', async () => {
    const entries = generateYolo({ seed: 3, trainImages: 2, valImages: 1 }).entries.map((e) =>
      e.path === 'labels/train/train_0001.txt' ? { ...e, data: Buffer.from('7 0.5 0.5 2 0.1\n') } : e,
    );
    const zip = join(scratch, 'broken.zip');
    await writeFile(zip, await zipBuffer(entries));
    const run = await runVtp(['datasets', 'upload', zip, '--format', 'yolo'], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^vtp: 422 [a-z_]+: .*labels\/train\/train_0001\.txt.*\n$/);
    expect(run.stderr.trimEnd()).not.toContain('\n');
  });

  it('train, jobs ls/show/cancel/resume, models; a bad hyperparameter names its field', async () => {
    const models = json<(TrainerModel & { framework: string })[]>(await runVtp(['models', '--json'], env));
    expect(models).toContainEqual(expect.objectContaining({ framework: 'timm', name: 'test_resnet' }));

    const bad = await runVtp(
      ['train', 'timm', 'test_resnet', '--dataset', 'shapes', '--set', 'epochs=-3'],
      env,
    );
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^vtp: 422 validation_failed: .*body\.hyperparameters\.epochs/);

    const job = json<Job>(
      await runVtp(
        [
          'train',
          'timm',
          'test_resnet',
          '--dataset',
          'shapes',
          '--epochs',
          '2',
          '--set',
          'imgsz=32',
          '--set',
          'opt=sgd',
          '--json',
        ],
        env,
      ),
    );
    expect(job).toMatchObject({ status: 'queued', framework: 'timm', model: 'test_resnet' });
    expect(job.hyperparameters).toMatchObject({ epochs: 2, imgsz: 32, opt: 'sgd' });

    expect(
      json<Job[]>(await runVtp(['jobs', 'ls', '--status', 'queued', '--json'], env)).map((j) => j.id),
    ).toEqual([job.id]);
    const shown = await runVtp(['jobs', 'show', job.id], env);
    expect(shown.stdout).toMatch(/status +queued/);
    expect(shown.stdout).toMatch(/model +timm\/test_resnet/);

    const cancel = await runVtp(['jobs', 'cancel', job.id], env);
    expect(cancel.stdout).toBe(`Job ${job.id}: cancelled\n`);
    expect((await runVtp(['jobs', 'cancel', job.id], env)).stdout).toBe(`Job ${job.id}: already cancelled\n`);
    const resume = await runVtp(['jobs', 'resume', job.id], env);
    expect(resume.code).toBe(3);
    expect(resume.stderr).toMatch(/^vtp: 409 nothing_to_resume: /);
    const download = await runVtp(['jobs', 'download', job.id, '-o', scratch], env);
    expect(download).toMatchObject({ code: 3 });
    expect(download.stderr).toMatch(/^vtp: 404 artifact_not_found: /);
  });

  it("a missing file, a bad number or a bad URL is the caller's to fix: exit 2 with one line saying which", async () => {
    const missing = await runVtp(
      ['datasets', 'upload', join(scratch, 'nowhere.zip'), '--format', 'yolo'],
      env,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vtp: .*ENOENT.*nowhere\.zip.*\n$/);
    const emptyFolder = await mkdtemp(join(scratch, 'empty-'));
    const empty = await runVtp(['datasets', 'upload', emptyFolder, '--format', 'yolo'], env);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(`vtp: ${emptyFolder} holds no files to upload\n`);
    const retries = await runVtp(
      ['train', 'timm', 'test_resnet', '--dataset', 'x', '--max-retries', 'two'],
      env,
    );
    expect(retries.code).toBe(2);
    expect(retries.stderr).toContain('expected 0 or a positive integer');
    const url = await runVtp(['login', '--url', 'localhost'], env);
    expect(url.code).toBe(2);
    expect(url.stderr).toContain("expected the API's URL");
  });

  it('login names the URL it could not reach, and exits 4', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runVtp(['login', '--url', url], env);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(new RegExp(`^vtp: cannot reach ${url}: `));
  });

  it('an unreachable API exits 4 naming it', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runVtp(['models'], { ...env, VTP_URL: url });
    expect(run.code).toBe(4);
    expect(run.stderr).toBe(`vtp: cannot reach ${url}: ECONNREFUSED\n`);
  });
});
