// The Compose file and local.env, checked without Docker: structure and health checks, then every service's
// environment through the services' own config loaders, and the credentials and ports they share.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadTrainerConfig } from '../../packages/trainer-runtime/src/config.ts';
import { loadBackendConfig } from '../../services/backend/src/config.ts';
import { readRepoFile, repoPath } from './support/repo.ts';
import { prometheusTool, run } from './support/tools.ts';

interface ComposeService {
  image: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  command?: string[] | string;
  read_only?: boolean;
  volumes?: string[];
}

const compose = parse(readRepoFile('infra/compose/compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const PINNED_IMAGE =
  /^([a-z0-9./-]+:v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?|postgres:\d+\.\d+(-[a-z0-9.-]+)?|[a-z0-9./-]+:RELEASE\.[0-9TZ-]+)$/;

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`compose.yaml has no service ${name}`);
  return found;
}

/** Services others wait to have finished: they run once and exit. */
const oneShot = new Set(
  Object.values(services).flatMap((s) =>
    Object.entries(s.depends_on ?? {})
      .filter(([, dependency]) => dependency.condition === 'service_completed_successfully')
      .map(([name]) => name),
  ),
);

/** "127.0.0.1:5432:5432" -> the host port published for a container port. */
function publishedPort(name: string, containerPort: number): number {
  for (const mapping of service(name).ports ?? []) {
    const [host, published, target] = mapping.split(':');
    if (Number(target) === containerPort) {
      expect(host, `${name} publishes on loopback only`).toBe('127.0.0.1');
      return Number(published);
    }
  }
  throw new Error(`${name} does not publish port ${containerPort}`);
}

const OBSERVERS = ['prometheus', 'grafana', 'loki', 'tempo', 'alloy'];

/** Images with no shell or HTTP client and no self-check command: nothing may wait for them to be healthy. */
const UNPROBED = ['tempo', 'alloy'];

/** The repository file a service mounts at `target` (bind mounts are relative to infra/compose). */
function mounted(name: string, target: string): string {
  for (const volume of service(name).volumes ?? []) {
    const [source, inside] = volume.split(':');
    if (inside === target && source?.startsWith('.')) return join('infra/compose', source);
  }
  throw new Error(`${name} mounts nothing from the repository at ${target}`);
}

function env(name: string): Record<string, string> {
  return service(name).environment ?? {};
}

describe('compose.yaml', () => {
  it('gives every long-running service a health check; the one-shot bucket job runs once', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'alloy',
        'backend',
        'grafana',
        'loki',
        'minio',
        'minio-create-bucket',
        'postgres',
        'prometheus',
        'tempo',
        'trainer-timm',
        'trainer-ultralytics',
      ].sort(),
    );
    for (const [name, definition] of Object.entries(services)) {
      if (oneShot.has(name)) {
        expect(definition.restart, name).toBe('no');
        continue;
      }
      if (UNPROBED.includes(name)) {
        expect(definition.healthcheck, name).toBeUndefined();
        continue;
      }
      expect(definition.healthcheck?.test?.[0], `${name} healthcheck`).toBe('CMD');
    }
    expect([...oneShot]).toEqual(['minio-create-bucket']);
  });

  it('starts a service only when what it depends on is healthy (or, for one-shots, done)', () => {
    for (const [name, definition] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(definition.depends_on ?? {})) {
        expect(UNPROBED, `${name} waits for ${dependency}, which has no health check`).not.toContain(
          dependency,
        );
        expect(services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        expect(condition, `${name} -> ${dependency}`).toBe(
          oneShot.has(dependency) ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
  });

  it('builds the platform images from their Dockerfiles and pins every other image to a release', () => {
    for (const [name, definition] of Object.entries(services)) {
      if (definition.build) {
        expect(definition.build.context, name).toBe('../..');
        expect(readRepoFile(definition.build.dockerfile)).toContain('FROM');
        expect(definition.build.dockerfile).toBe(`services/${name}/Dockerfile`);
        expect(definition.image).toBe(`vtp/${name}:dev`);
        expect(definition.profiles, `${name} starts with --profile app`).toEqual(['app']);
        expect(definition.read_only, `${name} has a read-only root`).toBe(true);
      } else {
        expect(definition.image, name).toMatch(PINNED_IMAGE);
        // Storage starts on its own; Prometheus and Grafana come with the services they watch.
        if (OBSERVERS.includes(name)) expect(definition.profiles, name).toEqual(['app']);
        else expect(definition.profiles, `${name} starts without a profile`).toBeUndefined();
      }
    }
  });

  it('hands the backend an environment its config loader accepts, pointing at the compose services', () => {
    const config = loadBackendConfig(env('backend'));
    const database = new URL(config.DATABASE_URL ?? '');
    const postgres = env('postgres');
    expect(database.hostname).toBe('postgres');
    expect([database.username, database.password, database.pathname]).toEqual([
      postgres.POSTGRES_USER,
      postgres.POSTGRES_PASSWORD,
      `/${postgres.POSTGRES_DB}`,
    ]);
    expect(new URL(config.S3_ENDPOINT ?? '').host).toBe('minio:9000');
    expect([config.AWS_ACCESS_KEY_ID, config.AWS_SECRET_ACCESS_KEY]).toEqual([
      env('minio').MINIO_ROOT_USER,
      env('minio').MINIO_ROOT_PASSWORD,
    ]);
    expect(config.BUCKET_NAME).toBe(env('minio-create-bucket').BUCKET_NAME);
    expect(new URL(config.BACKEND_BASE_URL ?? '').host).toBe('backend:8000');
    expect(config.TRAINER_URLS).toEqual({
      ultralytics: `http://trainer-ultralytics:${env('trainer-ultralytics').PORT}`,
      timm: `http://trainer-timm:${env('trainer-timm').PORT}`,
    });
  });

  it.each([
    ['trainer-ultralytics', 'ultralytics'],
    ['trainer-timm', 'timm'],
  ] as const)(
    'hands %s an environment its config loader accepts, sharing the backend token and no storage settings',
    (name, framework) => {
      const config = loadTrainerConfig(framework, 0, 'serve', env(name));
      const backend = loadBackendConfig(env('backend'));
      expect(config.trainerToken).toBe(backend.TRAINER_TOKEN);
      // Trainers read and write through presigned URLs: they hold no storage settings or credentials.
      expect(Object.keys(env(name)).filter((key) => /^(S3_|AWS_)/.test(key))).toEqual([]);
      expect(config.workDir).toBe('/work');
      const healthcheck = service(name).healthcheck?.test.join(' ') ?? '';
      expect(healthcheck).toContain(`http://127.0.0.1:${config.port}/healthz`);
    },
  );

  it("runs Prometheus on the platform's rules, scraping the backend and both trainers under the jobs the rules name", async () => {
    const configFile = mounted('prometheus', '/etc/prometheus/prometheus.yml');
    const rulesFile = mounted('prometheus', '/etc/prometheus/rules/rules.yaml');
    expect(rulesFile).toBe('infra/observability/prometheus/rules.yaml');
    const config = parse(readRepoFile(configFile));
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yaml']);
    const targets = Object.fromEntries(
      config.scrape_configs.map((c: { job_name: string; static_configs: { targets: string[] }[] }) => [
        c.job_name,
        c.static_configs.flatMap((s) => s.targets),
      ]),
    );
    expect(targets).toEqual({
      'vtp-backend': ['backend:8000'],
      'vtp-trainer': [
        `trainer-ultralytics:${env('trainer-ultralytics').PORT}`,
        `trainer-timm:${env('trainer-timm').PORT}`,
      ],
    });
    // The real promtool reads the config as Prometheus will, with the rules where the container has them.
    const dir = await mkdtemp(join(tmpdir(), 'vtp-compose-prometheus-'));
    try {
      await writeFile(join(dir, 'rules.yaml'), readRepoFile(rulesFile));
      await writeFile(
        join(dir, 'prometheus.yml'),
        stringify({ ...config, rule_files: [join(dir, '*.yaml')] }),
      );
      const { stdout } = await run(prometheusTool('promtool'), [
        'check',
        'config',
        join(dir, 'prometheus.yml'),
      ]);
      expect(stdout).toContain('SUCCESS');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(publishedPort('prometheus', 9090)).toBe(9090);
  });

  it('runs Grafana with the Prometheus data source the dashboards query and the generated dashboards', () => {
    const datasources = parse(
      readRepoFile(mounted('grafana', '/etc/grafana/provisioning/datasources/datasources.yaml')),
    ).datasources;
    expect(datasources).toEqual([
      expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' }),
      expect.objectContaining({ uid: 'loki', type: 'loki' }),
      expect.objectContaining({ uid: 'tempo', type: 'tempo' }),
    ]);
    const provider = parse(
      readRepoFile(mounted('grafana', '/etc/grafana/provisioning/dashboards/dashboards.yaml')),
    ).providers[0];
    expect(mounted('grafana', provider.options.path)).toBe('infra/observability/grafana/dashboards');
    expect(env('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `${provider.options.path}/platform.json`,
    );
    expect(publishedPort('grafana', 3000)).toBe(3000);
  });

  it("sends the services' spans through Alloy to Tempo and every container's log lines to Loki, and Grafana links both ways", () => {
    const alloyFile = mounted('alloy', '/etc/alloy/config.alloy');
    expect(service('alloy').command).toContain('/etc/alloy/config.alloy');
    const alloy = readRepoFile(alloyFile);
    const loki = parse(readRepoFile(mounted('loki', '/etc/loki/loki.yaml')));
    const tempo = parse(readRepoFile(mounted('tempo', '/etc/tempo/tempo.yaml')));
    expect(service('loki').command).toEqual(['-config.file=/etc/loki/loki.yaml']);
    expect(service('tempo').command).toEqual(['-config.file=/etc/tempo/tempo.yaml']);

    // Spans: every platform service exports to Alloy's OTLP/HTTP receiver, which exports to Tempo's OTLP/gRPC one.
    const otlpPort = /otelcol\.receiver\.otlp "platform" \{\s*http \{\s*endpoint = "0\.0\.0\.0:(\d+)"/.exec(
      alloy,
    )?.[1];
    for (const name of ['backend', 'trainer-ultralytics', 'trainer-timm'])
      expect(env(name).OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe(`http://alloy:${otlpPort}`);
    const tempoGrpc = tempo.distributor.receivers.otlp.protocols.grpc.endpoint.split(':').at(-1);
    expect(alloy).toContain(`endpoint = "tempo:${tempoGrpc}"`);

    // Logs: the compose project's containers, one stream per service, job and trace ids as structured metadata.
    expect(alloy).toContain('values = ["com.docker.compose.project=vtp"]');
    expect(service('alloy').volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    expect(alloy).toContain(`url = "http://loki:${loki.server.http_listen_port}/loki/api/v1/push"`);
    expect(alloy).toMatch(
      /stage\.structured_metadata \{\s*values = \{ job_id = "", trace_id = "", span_id = "" \}/,
    );
    expect(loki.limits_config.allow_structured_metadata).toBe(true);
    expect(loki.schema_config.configs.at(-1)).toMatchObject({ store: 'tsdb', schema: 'v13' });

    // Grafana reaches both, and each links to the other by trace id.
    const byUid = Object.fromEntries(
      parse(
        readRepoFile(mounted('grafana', '/etc/grafana/provisioning/datasources/datasources.yaml')),
      ).datasources.map((d: { uid: string }) => [d.uid, d]),
    );
    expect(byUid.loki.url).toBe(`http://loki:${loki.server.http_listen_port}`);
    expect(byUid.tempo.url).toBe(`http://tempo:${tempo.server.http_listen_port}`);
    expect(byUid.tempo.jsonData.tracesToLogsV2).toMatchObject({ datasourceUid: 'loki' });
    // "$$" in a provisioning file is one literal "$" for Grafana's own variables.
    expect(byUid.tempo.jsonData.tracesToLogsV2.query).toBe(
      '{service=~".+"} | trace_id="$${__trace.traceId}"',
    );
    expect(byUid.loki.jsonData.derivedFields).toEqual([
      expect.objectContaining({ matcherType: 'label', matcherRegex: 'trace_id', datasourceUid: 'tempo' }),
    ]);
    expect(publishedPort('loki', 3100)).toBe(3100);
  });

  it('creates the bucket with the MinIO root credentials', () => {
    const command = [service('minio-create-bucket').command].flat().join(' ');
    expect(command).toContain(
      'mc alias set local http://minio:9000 "$$MINIO_ROOT_USER" "$$MINIO_ROOT_PASSWORD"',
    );
    expect(command).toContain('mc mb --ignore-existing "local/$$BUCKET_NAME"');
    expect(env('minio-create-bucket').MINIO_ROOT_USER).toBe(env('minio').MINIO_ROOT_USER);
    expect(env('minio-create-bucket').MINIO_ROOT_PASSWORD).toBe(env('minio').MINIO_ROOT_PASSWORD);
  });
});

describe('local.env', () => {
  /** What `set -a; . local.env` exports: the file is read by sh exactly as the README tells people to. */
  async function sourced(): Promise<Record<string, string>> {
    const { stdout } = await run(
      'sh',
      ['-c', 'set -a && . "$1" && env -0', 'sh', repoPath('infra/compose/local.env')],
      {
        env: {},
      },
    );
    return Object.fromEntries(
      stdout
        .split('\0')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  it('points a backend on this machine at the compose PostgreSQL and MinIO, through their published ports', async () => {
    const local = await sourced();
    const config = loadBackendConfig(local);
    const database = new URL(config.DATABASE_URL ?? '');
    const postgres = env('postgres');
    expect(database.hostname).toBe('127.0.0.1');
    expect(Number(database.port)).toBe(publishedPort('postgres', 5432));
    expect([database.username, database.password, database.pathname]).toEqual([
      postgres.POSTGRES_USER,
      postgres.POSTGRES_PASSWORD,
      `/${postgres.POSTGRES_DB}`,
    ]);
    const storage = new URL(config.S3_ENDPOINT ?? '');
    expect(storage.hostname).toBe('127.0.0.1');
    expect(Number(storage.port)).toBe(publishedPort('minio', 9000));
    expect([config.AWS_ACCESS_KEY_ID, config.AWS_SECRET_ACCESS_KEY]).toEqual([
      env('minio').MINIO_ROOT_USER,
      env('minio').MINIO_ROOT_PASSWORD,
    ]);
    expect(config.BUCKET_NAME).toBe(env('minio-create-bucket').BUCKET_NAME);
    expect(config.EXECUTION_MODE).toBe('subprocess');
  });
});
