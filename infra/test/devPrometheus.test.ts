// `npm run dev`'s Prometheus (infra/observability/devPrometheus.ts), run for real: it loads the platform's rules
// and scrapes the dev backend and trainers where config/dev-backend.env puts them, and stops with its parent.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRepoFile, repoPath } from './support/repo.ts';
import { prometheusTool } from './support/tools.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('npm run dev: the local Prometheus', () => {
  let dev: ChildProcess;
  let api: string;
  let dir: string;

  beforeAll(async () => {
    prometheusTool('prometheus');
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    dir = await mkdtemp(join(tmpdir(), 'vtp-dev-prometheus-'));
    dev = spawn(process.execPath, [repoPath('infra/observability/devPrometheus.ts')], {
      env: { ...process.env, PROMETHEUS_PORT: String(port), PROMETHEUS_DIR: dir },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 30_000;
    while (
      !(await fetch(`${api}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`no Prometheus ready on ${api}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    if (dev?.exitCode === null) dev.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has every rule of rules.yaml and the dev services as targets; SIGTERM stops it and Prometheus', async () => {
    const rules = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string }[] }[] };
    };
    const expected = (
      parse(readRepoFile('infra/observability/prometheus/rules.yaml')) as {
        groups: { rules: { record?: string; alert?: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules.map((r) => r.record ?? r.alert));
    expect(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name))).toEqual(expected);

    // Discovery of the static targets follows readiness by a moment.
    const targets = async () =>
      (
        (await (await fetch(`${api}/api/v1/targets`)).json()) as {
          data: { activeTargets: { labels: { job: string; instance: string } }[] };
        }
      ).data.activeTargets.map((t) => `${t.labels.job} ${t.labels.instance}`);
    await expect.poll(async () => (await targets()).length, { timeout: 10_000 }).toBe(3);
    const trainerUrls = /^TRAINER_URLS=(.*)$/m.exec(readRepoFile('config/dev-backend.env'))?.[1] ?? '';
    expect((await targets()).sort()).toEqual(
      [
        'vtp-backend 127.0.0.1:8000',
        ...trainerUrls.split(',').map((entry) => `vtp-trainer ${new URL(entry.split('=')[1] ?? '').host}`),
      ].sort(),
    );

    dev.kill('SIGTERM');
    const code = await new Promise((done) => dev.once('exit', done));
    expect(code).toBe(0);
    expect(
      await fetch(`${api}/-/ready`).then(
        () => 'still up',
        () => 'gone',
      ),
    ).toBe('gone');
  });
});
