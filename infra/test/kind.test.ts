// The Kind setup, which needs Docker and Kind to run: its config, its scripts and the smoke test are checked
// against the kind overlay they drive, and run as far as this machine allows (help, argument errors, the real
// dataset generator and the smoke test's own argument handling).
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  find,
  findGenerated,
  type K8sObject,
  podTemplates,
  renderKustomization,
} from './support/kustomize.ts';
import { readRepoFile, repoPath } from './support/repo.ts';
import { checkTool, run } from './support/tools.ts';

const kindUp = readRepoFile('infra/kind/kind-up.sh');
const kindDown = readRepoFile('infra/kind/kind-down.sh');
const kindConfig = parse(readRepoFile('infra/kind/kind-config.yaml')) as {
  name: string;
  nodes: {
    role: string;
    extraPortMappings?: { containerPort: number; hostPort: number; listenAddress: string }[];
  }[];
};
const node = process.execPath;

let objects: K8sObject[];
let scratch: string;
beforeAll(async () => {
  objects = await renderKustomization('overlays/kind');
  scratch = await mkdtemp(join(tmpdir(), 'vtp-infra-kind-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A bash variable reference as the scripts write it: bash('x') is "${x}". */
function bash(name: string): string {
  return `\${${name}}`;
}

function scriptValue(script: string, name: string): string {
  const match = new RegExp(`^readonly ${name}=(.+)$`, 'm').exec(script);
  if (!match?.[1]) throw new Error(`no "readonly ${name}=" in the script`);
  return match[1];
}

/** A loopback port nothing listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function nodePorts(): number[] {
  return objects
    .filter((o) => o.kind === 'Service' && o.spec.type === 'NodePort')
    .flatMap((o) => o.spec.ports.map((p: { nodePort: number }) => p.nodePort))
    .sort();
}

describe('kind-config.yaml', () => {
  it('has one control-plane and two workers, named as the scripts name the cluster', () => {
    expect(kindConfig.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(kindConfig.name).toBe(scriptValue(kindUp, 'cluster'));
    expect(kindConfig.name).toBe(scriptValue(kindDown, 'cluster'));
  });

  it('publishes exactly the NodePorts of the kind overlay, on the same port numbers, on 127.0.0.1 only', () => {
    const mappings = kindConfig.nodes.flatMap((n) => n.extraPortMappings ?? []);
    expect(mappings.map((m) => m.containerPort).sort()).toEqual(nodePorts());
    for (const mapping of mappings) {
      expect(mapping.hostPort).toBe(mapping.containerPort);
      expect(mapping.listenAddress).toBe('127.0.0.1');
    }
  });
});

describe('kind-up.sh', () => {
  it('builds and loads exactly the locally built images the kind overlay runs', () => {
    const services = /^readonly services=\(([^)]*)\)$/m.exec(kindUp)?.[1]?.trim().split(/\s+/) ?? [];
    expect(services.length).toBeGreaterThan(0);
    for (const service of services) expect(readRepoFile(`services/${service}/Dockerfile`)).toContain('FROM');
    expect(kindUp).toContain(`image="vtp/${bash('service')}:dev"`);
    const config = findGenerated(objects, 'ConfigMap', 'backend-config', 'platform').data;
    const used = new Set<string>([config.TRAINER_IMAGE_ULTRALYTICS, config.TRAINER_IMAGE_TIMM]);
    for (const { spec } of podTemplates(objects))
      for (const container of spec.containers)
        if (container.image.startsWith('vtp/')) used.add(container.image);
    expect([...used].sort()).toEqual(services.map((s) => `vtp/${s}:dev`).sort());
  });

  it('waits for every workload of the overlay, and for nothing that is not there', () => {
    const waited = [...kindUp.matchAll(/rollout status --namespace (\S+) (\w+)\/(\S+)/g)].map(
      ([, namespace, kind, name]) => `${namespace}/${kind}/${name}`,
    );
    const jobs = [...kindUp.matchAll(/wait --namespace (\S+) --for condition=complete job\/(\S+)/g)].map(
      ([, namespace, name]) => `${namespace}/job/${name}`,
    );
    const workloads = objects
      .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
      .map((o) => `${o.metadata.namespace}/${o.kind.toLowerCase()}/${o.metadata.name}`);
    expect([...waited, ...jobs].sort()).toEqual(workloads.sort());
  });

  it('talks to the backend NodePort and reads the admin key from the Secret the backend gets it from', () => {
    const url = new URL(scriptValue(kindUp, 'backend_url'));
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBe(find(objects, 'Service', 'backend', 'platform').spec.ports[0].nodePort);
    const backend = find(objects, 'Deployment', 'backend', 'platform').spec.template.spec.containers[0];
    const adminKey = backend.env.find((e: { name: string }) => e.name === 'ADMIN_API_KEY').valueFrom
      .secretKeyRef;
    expect(kindUp).toContain(
      `get secret ${adminKey.name} --namespace platform --output jsonpath='{.data.${adminKey.key}}'`,
    );
    expect(kindUp).toContain(`readonly overlay="${bash('repo_root')}/infra/k8s/overlays/kind"`);
  });

  it('prints its help and refuses unknown arguments before touching Docker or Kind', async () => {
    const help = await run('bash', [repoPath('infra/kind/kind-up.sh'), '--help']);
    expect(help.stdout).toContain('Usage: infra/kind/kind-up.sh [--no-smoke] [--framework ultralytics|timm]');
    const refused = await run('bash', [repoPath('infra/kind/kind-up.sh'), '--framework', 'keras']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("--framework must be ultralytics or timm, got 'keras'"),
    });
  });

  it('generates its smoke dataset with arguments the sample-data CLI accepts', async () => {
    const call = /packages\/sample-data\/src\/cli\.ts" \\\n\s+(.+)$/m.exec(kindUp)?.[1] ?? '';
    expect(call).toContain(`--format "${bash('dataset_format')}" --out "${bash('dataset')}"`);
    for (const format of ['yolo', 'imagefolder']) {
      const out = join(scratch, `smoke-${format}.zip`);
      const args = call
        .replace(`"${bash('dataset_format')}"`, format)
        .replace(`"${bash('dataset')}"`, out)
        .split(/\s+/);
      const { stdout } = await run(node, [repoPath('packages/sample-data/src/cli.ts'), ...args]);
      expect(stdout).toContain(`wrote ${format} dataset to ${out}`);
    }
  });
});

describe('smoke-training.ts', () => {
  const script = repoPath('infra/kind/smoke-training.ts');

  it('names a missing argument and exits 2', async () => {
    const failure = await run(node, [script, '--url', 'http://127.0.0.1:1']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2, stderr: '[smoke] --admin-key is required\n' });
  });

  it('exits 1 naming the call that failed when the backend cannot be reached', async () => {
    const dataset = join(scratch, 'smoke-yolo.zip');
    await run(node, [repoPath('packages/sample-data/src/cli.ts'), '--format', 'yolo', '--out', dataset]);
    const port = await closedPort();
    const failure = await run(node, [
      script,
      '--url',
      `http://127.0.0.1:${port}`,
      '--admin-key',
      'x'.repeat(32),
      '--dataset',
      dataset,
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({
      code: 1,
      stderr: `[smoke] POST http://127.0.0.1:${port}/v1/api-keys failed: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    });
  });
});

describe('scripts', () => {
  const scripts = ['infra/kind/kind-up.sh', 'infra/kind/kind-down.sh'];

  it.each(scripts)('%s is strict bash that parses', async (path) => {
    const text = readRepoFile(path);
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    await run('bash', ['-n', repoPath(path)]);
  });

  it.each(scripts)('%s passes shellcheck', async (path) => {
    const result = await run(checkTool('shellcheck'), ['--shell=bash', repoPath(path)]).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout }),
    );
    expect(result.stdout).toBe('');
  });
});
