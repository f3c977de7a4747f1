import { parseAllDocuments } from 'yaml';
import { repoPath } from './repo.ts';
import { findExecutable, run } from './tools.ts';

/** A rendered Kubernetes object, as loosely typed as YAML gives it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field by the tests and the schemas
  [field: string]: any;
}

/** kubectl bundles kustomize (v5 since kubectl 1.27); KUBECTL overrides where it is found. */
function kubectl(): string {
  const found = process.env.KUBECTL ?? findExecutable('kubectl');
  if (!found)
    throw new Error(
      'kubectl is needed to render the manifests (kubectl kustomize): install it or set KUBECTL',
    );
  return found;
}

/** `kubectl kustomize infra/k8s/<path>` parsed into objects. */
export async function renderKustomization(path: string): Promise<K8sObject[]> {
  const { stdout } = await run(kubectl(), ['kustomize', repoPath('infra', 'k8s', path)], {
    maxBuffer: 32 * 1024 * 1024,
  });
  return parseAllDocuments(stdout).map((doc, i) => {
    if (doc.errors.length) throw new Error(`${path}: document ${i}: ${doc.errors[0]?.message}`);
    return doc.toJS() as K8sObject;
  });
}

export function find(objects: K8sObject[], kind: string, name: string, namespace?: string): K8sObject {
  const found = objects.find(
    (o) =>
      o.kind === kind &&
      o.metadata.name === name &&
      (namespace === undefined || o.metadata.namespace === namespace),
  );
  if (!found)
    throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ''}${name} in the rendered manifests`);
  return found;
}

/** ConfigMaps and Secrets from generators carry a hash suffix; this finds one by the name it was given. */
export function findGenerated(
  objects: K8sObject[],
  kind: 'ConfigMap' | 'Secret',
  name: string,
  namespace: string,
) {
  const found = objects.filter(
    (o) =>
      o.kind === kind &&
      o.metadata.namespace === namespace &&
      (o.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name)),
  );
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace}/${name}, found ${found.length}`);
  return found[0] as K8sObject;
}

/** Decoded `data` (and `stringData`) of a Secret. */
export function secretValues(secret: K8sObject): Record<string, string> {
  const data = Object.fromEntries(
    Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString('utf8'),
    ]),
  );
  return { ...data, ...((secret.stringData ?? {}) as Record<string, string>) };
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

export interface PodTemplate {
  owner: string;
  // biome-ignore lint/suspicious/noExplicitAny: see K8sObject
  spec: any;
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** The pod template of every workload (CronJobs' included) and every bare Pod. */
export function podTemplates(objects: K8sObject[]): PodTemplate[] {
  return objects.flatMap((o) => {
    const owner = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
    if (o.kind === 'Pod') return [{ owner, spec: o.spec, metadata: o.metadata }];
    if (o.kind === 'CronJob') return [{ owner, ...o.spec.jobTemplate.spec.template }];
    if (WORKLOADS.has(o.kind)) return [{ owner, ...o.spec.template }];
    return [];
  });
}
