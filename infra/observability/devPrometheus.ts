/**
 * `npm run dev`'s Prometheus: when the `prometheus` binary is installed (Debian's package; `npm test` installs it),
 * runs it on http://127.0.0.1:9090 (PROMETHEUS_PORT moves it) scraping the dev backend and the trainers its
 * config/dev-backend.env points at, with the platform's rules, keeping its data in infra/.data/prometheus
 * (PROMETHEUS_DIR moves it). Without the binary, or when it cannot start (the port taken), it says so and ends
 * without failing: the rest of `npm run dev` does not need it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { stringify } from 'yaml';

const infra = join(import.meta.dirname, '..');
const repoRoot = join(infra, '..');

/** The targets of the dev services: the backend on its PORT, the trainers where TRAINER_URLS says. */
function devScrapeConfig(rulesFile: string, env: Record<string, string | undefined>) {
  const trainers = (env.TRAINER_URLS ?? '')
    .split(',')
    .filter(Boolean)
    .map((entry) => new URL(entry.slice(entry.indexOf('=') + 1)).host);
  return {
    global: { scrape_interval: '5s', evaluation_interval: '5s' },
    rule_files: [rulesFile],
    scrape_configs: [
      { job_name: 'vtp-backend', static_configs: [{ targets: [`127.0.0.1:${env.PORT ?? '8000'}`] }] },
      { job_name: 'vtp-trainer', static_configs: [{ targets: trainers }] },
    ],
  };
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write(
      '[prometheus] not installed: no local Prometheus (npm run test-tools:prometheus installs it)\n',
    );
    return;
  }
  const dir = process.env.PROMETHEUS_DIR ?? join(infra, '.data', 'prometheus');
  await mkdir(dir, { recursive: true });
  const devEnv = parseEnv(readFileSync(join(repoRoot, 'config', 'dev-backend.env'), 'utf8'));
  const config = devScrapeConfig(join(infra, 'observability', 'prometheus', 'rules.yaml'), {
    ...devEnv,
    ...process.env,
  });
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const address = `127.0.0.1:${process.env.PROMETHEUS_PORT ?? '9090'}`;
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=${address}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  process.stderr.write(`[prometheus] http://${address} (rules and targets of the dev services)\n`);
  // It stops with `npm run dev` (Ctrl-C, SIGTERM) and takes Prometheus with it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => prometheus.kill('SIGTERM'));
  prometheus.once('exit', (code, signal) => {
    if (signal !== 'SIGTERM')
      process.stderr.write(
        `[prometheus] exited (${signal ?? `code ${code}`}); the dev services go on without it\n`,
      );
  });
}

await main();
