// The container images, checked without a container engine: each Dockerfile is parsed and held to the rules
// the platform relies on (pinned bases, non-root, health checks, only real paths copied, the Kubernetes Job's
// command present in the image); hadolint lints them.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type CopyInstruction,
  parseCopy,
  parseDockerfile,
  parseEnv,
  type Stage,
} from './support/dockerfile.ts';
import { isIgnored } from './support/dockerignore.ts';
import { readManifest, readRepoFile, repoPath, runtimeWorkspaces, workspaces } from './support/repo.ts';
import { checkTool, run } from './support/tools.ts';

interface Image {
  service: string;
  port: number;
  /** Python runner and framework inside the image. */
  python: boolean;
}

const IMAGES: Image[] = [
  { service: 'backend', port: 8000, python: false },
  { service: 'trainer-ultralytics', port: 8101, python: true },
  { service: 'trainer-timm', port: 8102, python: true },
];

/** A base image pinned to a release: a full x.y.z version (suffixes such as -bookworm-slim allowed) or a digest. */
const PINNED_BASE = /^[a-z0-9./-]+(:\d+\.\d+\.\d+(-[a-z0-9.-]+)?)?(@sha256:[a-f0-9]{64})?$/;

const dockerignore = readRepoFile('.dockerignore');

function load(service: string): Stage[] {
  const path = `services/${service}/Dockerfile`;
  return parseDockerfile(readRepoFile(path), path);
}

function instructions(stage: Stage, keyword: string) {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

function contextCopies(stage: Stage): CopyInstruction[] {
  return [...instructions(stage, 'COPY'), ...instructions(stage, 'ADD')]
    .map(parseCopy)
    .filter((copy) => copy.from === undefined);
}

function finalStage(stages: Stage[]): Stage {
  const stage = stages.at(-1);
  if (!stage) throw new Error('no stage');
  return stage;
}

function finalEnv(stages: Stage[]): Record<string, string> {
  return Object.assign({}, ...instructions(finalStage(stages), 'ENV').map(parseEnv));
}

function lastWorkdir(stage: Stage): string | undefined {
  return instructions(stage, 'WORKDIR').at(-1)?.args;
}

describe.each(IMAGES)('services/$service/Dockerfile', ({ service, port, python }) => {
  const stages = load(service);
  const final = finalStage(stages);
  const manifest = readManifest(`services/${service}`);

  it('builds in several stages from base images pinned to a full version', () => {
    expect(stages.length).toBeGreaterThan(1);
    const names = new Set<string>();
    for (const stage of stages) {
      if (!names.has(stage.base)) {
        expect(stage.base, `FROM ${stage.base}`).toMatch(PINNED_BASE);
        expect(stage.base, `FROM ${stage.base}`).toMatch(/[:@]/);
        expect(stage.base).not.toMatch(/:latest\b/);
      }
      if (stage.name) names.add(stage.name);
    }
  });

  it('runs as the unprivileged user 10001 that it creates', () => {
    const user = instructions(final, 'USER').at(-1)?.args;
    expect(user, 'USER in the final stage').toBeDefined();
    expect(user?.split(':')[0]).toBe('10001');
    const creates = instructions(final, 'RUN').some((run) => /useradd\b.*--uid 10001\b/.test(run.args));
    expect(creates, 'a RUN useradd --uid 10001').toBe(true);
  });

  it('reports its health on /healthz of its own port', () => {
    const healthcheck = instructions(final, 'HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    expect(healthcheck[0]?.args).toMatch(/CMD \[.*\/healthz/);
    expect(healthcheck[0]?.args).toContain('process.env.PORT');
    expect(finalEnv(stages).PORT).toBe(String(port));
    expect(instructions(final, 'EXPOSE').map((e) => e.args)).toEqual([String(port)]);
  });

  it('copies only paths that exist and that .dockerignore lets into the build context', () => {
    const copies = stages.flatMap(contextCopies);
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      for (const source of copy.sources) {
        expect(existsSync(repoPath(source)), `COPY ${source} (line ${copy.line}) exists`).toBe(true);
        expect(isIgnored(source.replace(/\/$/, ''), dockerignore), `COPY ${source} is not ignored`).toBe(
          false,
        );
      }
    }
  });

  it('installs production dependencies of its own workspace from the lockfile, with every manifest npm ci checks', () => {
    const deps = stages.find((stage) => instructions(stage, 'RUN').some((r) => r.args.includes('npm ci')));
    expect(deps, 'a stage that runs npm ci').toBeDefined();
    const npmCi = instructions(deps as Stage, 'RUN').find((r) => r.args.includes('npm ci'))?.args ?? '';
    expect(npmCi).toContain('--omit=dev');
    expect(npmCi).toContain(`--workspace ${manifest.name}`);
    expect(npmCi).toContain('--include-workspace-root=false');
    const copied = contextCopies(deps as Stage).flatMap((copy) =>
      copy.sources.map((source) => (copy.destination.endsWith('/') ? source : copy.destination)),
    );
    const manifests = [
      'package.json',
      'package-lock.json',
      ...[...workspaces().values()].map((d) => `${d}/package.json`),
    ];
    expect(copied.sort()).toEqual(manifests.sort());
  });

  it('holds the sources of every workspace it runs, and the Node version the repository pins', () => {
    const copied = contextCopies(final).flatMap((copy) => copy.sources);
    for (const dir of runtimeWorkspaces(`services/${service}`)) {
      expect(copied, `${dir}/src is copied`).toContain(`${dir}/src`);
    }
    const rootManifest = JSON.parse(readRepoFile('package.json')) as {
      devDependencies: Record<string, string>;
    };
    const node = rootManifest.devDependencies.node;
    expect(stages.some((stage) => stage.base.startsWith(`node:${node}-`))).toBe(true);
  });

  it('is ready for a read-only root filesystem: HOME under /tmp', () => {
    expect(finalEnv(stages).HOME).toBe('/tmp');
  });

  if (python) {
    const framework = service.replace('trainer-', '');

    it('installs its own requirements.txt into a virtual environment that VTP_PYTHON names', () => {
      const pip = stages
        .flatMap((stage) => instructions(stage, 'RUN'))
        .find((r) => /pip install .*-r \/tmp\/requirements\.txt/.test(r.args));
      expect(pip?.args).toContain('/opt/venv/bin/pip');
      const requirements = stages
        .flatMap(contextCopies)
        .find((c) => c.destination === '/tmp/requirements.txt');
      expect(requirements?.sources).toEqual([`services/${service}/requirements.txt`]);
      expect(finalEnv(stages).VTP_PYTHON).toBe('/opt/venv/bin/python');
      expect(instructions(final, 'COPY').some((c) => /--from=\S+ \/opt\/venv \/opt\/venv/.test(c.args))).toBe(
        true,
      );
      expect(finalEnv(stages).WORK_DIR).toBe('/work');
      expect(finalEnv(stages).PYTHONDONTWRITEBYTECODE).toBe('1');
    });

    it('holds what the Kubernetes Job runs: node services/<trainer>/src/main.ts in /app, its runner and helper', () => {
      // services/backend/src/execution/kubernetes/trainingJob.ts: workingDir /app, that command, argument `run`.
      expect(lastWorkdir(final)).toBe('/app');
      const copied = contextCopies(final).flatMap((copy) => copy.sources);
      expect(copied).toEqual(
        expect.arrayContaining([
          `services/${service}/src`,
          `services/${service}/runner`,
          'packages/trainer-runtime/python',
        ]),
      );
      expect(existsSync(repoPath(`services/${service}/src/main.ts`))).toBe(true);
      expect(JSON.parse(instructions(final, 'CMD').at(-1)?.args ?? '[]')).toEqual([
        'node',
        `services/trainer-${framework}/src/main.ts`,
        'serve',
      ]);
    });
  } else {
    it('starts the backend from its own folder', () => {
      expect(lastWorkdir(final)).toBe('/app/services/backend');
      expect(JSON.parse(instructions(final, 'CMD').at(-1)?.args ?? '[]')).toEqual(['node', 'src/main.ts']);
    });
  }
});

describe('.dockerignore', () => {
  it('keeps dependencies, local data, VCS metadata and caches out of the build context', () => {
    for (const path of [
      'node_modules',
      'services/backend/node_modules',
      'services/backend/.data',
      '.data',
      '.git',
      'services/trainer-timm/runner/__pycache__',
      '.turbo',
      'packages/service-kit/src/telemetry.test.ts',
      '.env',
    ]) {
      expect(isIgnored(path, dockerignore), path).toBe(true);
    }
    for (const path of ['infra/package.json', 'services/backend/src/main.ts', 'package-lock.json']) {
      expect(isIgnored(path, dockerignore), path).toBe(false);
    }
  });
});

describe('hadolint', () => {
  it.each(IMAGES)('finds nothing in services/$service/Dockerfile', async ({ service }) => {
    const { stdout } = await run(checkTool('hadolint'), [repoPath('services', service, 'Dockerfile')]).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    );
    expect(stdout).toBe('');
  });
});
