import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiServer } from './apiServer.ts';
import { JobController } from './jobController.ts';
import { Kubelet } from './kubelet.ts';
import { type KubeObject, type Resource, ResourceStore } from './resourceStore.ts';

export interface FakeClusterOptions {
  /** The images' working directory /app: the repository root. */
  appDir: string;
  /** Namespaces the backend may use (others answer 403); default `training`. */
  namespaces?: string[];
  /** Environment every image brings (PATH, the trainers' Python). */
  imageEnv?: Record<string, string>;
  /** Images that cannot be pulled. */
  unpullableImages?: string[];
  /** Containers with a memory limit below this many bytes are OOM-killed; default: never. */
  oomBelowBytes?: number;
  /** GPUs of the one node (labelled nvidia.com/gpu.present=true when it has any); default 0. */
  gpus?: number;
  /** ResourceQuota count/jobs.batch per namespace; default: none. */
  maxJobs?: number;
}

interface ClusterParts {
  kubelet: Kubelet;
  controller: JobController;
  api: ApiServer;
  collector: GarbageCollector;
}

/**
 * A Kubernetes API server and a one-node cluster behind it, in-process and on loopback: the real REST paths the
 * client uses, resourceVersions and resumable watches, Status errors, garbage collection through
 * ownerReferences, a Job controller, and a kubelet that runs containers as local processes.
 */
export class FakeCluster {
  readonly store: ResourceStore;
  readonly url: string;
  private readonly parts: ClusterParts;

  private constructor(store: ResourceStore, url: string, parts: ClusterParts) {
    this.store = store;
    this.url = url;
    this.parts = parts;
  }

  static async start(options: FakeClusterOptions): Promise<FakeCluster> {
    const store = new ResourceStore();
    const gpus = options.gpus ?? 0;
    let controller: JobController | undefined;
    const kubelet = new Kubelet(store, {
      appDir: options.appDir,
      imageEnv: options.imageEnv ?? { PATH: process.env.PATH ?? '' },
      unpullableImages: new Set(options.unpullableImages),
      oomBelowBytes: options.oomBelowBytes ?? 0,
      gpus,
      nodeLabels: {
        'kubernetes.io/hostname': 'fake-node',
        ...(gpus > 0 ? { 'nvidia.com/gpu.present': 'true' } : {}),
      },
      onPodChanged: (pod) => controller?.podChanged(pod),
    });
    const jobs = new JobController(store, kubelet);
    controller = jobs;
    const collector = new GarbageCollector(store, kubelet, jobs);
    const api = new ApiServer(
      store,
      kubelet,
      {
        jobCreated: (job) => jobs.jobCreated(job),
        delete: (resource, namespace, name, policy) => collector.delete(resource, namespace, name, policy),
        patched: () => collector.collect(),
      },
      {
        namespaces: new Set(options.namespaces ?? ['training']),
        maxJobs: options.maxJobs ?? Number.POSITIVE_INFINITY,
      },
    );
    const url = await api.listen();
    return new FakeCluster(store, url, { kubelet, controller: jobs, api, collector });
  }

  /** A client configuration for this cluster: plain HTTP, no credentials. */
  kubeConfig(): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: 'training' }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  /** The same as a kubeconfig file, for code that loads KUBECONFIG itself. */
  async writeKubeconfig(dir: string): Promise<string> {
    const file = join(dir, 'kubeconfig.json');
    await writeFile(file, this.kubeConfig().exportConfig());
    return file;
  }

  /** Objects as an administrator would see them (a Secret the backend expects to exist, say). */
  seed(resource: Resource, object: KubeObject): KubeObject {
    return this.store.create(resource, object);
  }

  get(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    return this.store.get(resource, namespace, name);
  }

  list(resource: Resource, namespace = 'training', selector: string | null = null): KubeObject[] {
    return this.store.list(resource, namespace, selector);
  }

  /** kubectl delete: the API's semantics, without going through HTTP. */
  delete(resource: Resource, namespace: string, name: string, propagationPolicy = 'Background'): void {
    this.parts.collector.delete(resource, namespace, name, propagationPolicy);
  }

  async stop(): Promise<void> {
    this.parts.controller.stop();
    await this.parts.api.close();
    await this.parts.kubelet.stop();
  }
}

/**
 * Deletion as the API server and the garbage collector do it: pods go gracefully through the kubelet; other
 * objects go at once; then every object whose owners are all gone is deleted too, unless its owner was deleted
 * with propagationPolicy Orphan (the default for batch/v1 Jobs), which strips the reference instead.
 */
class GarbageCollector {
  private readonly store: ResourceStore;
  private readonly kubelet: Kubelet;
  private readonly controller: JobController;

  constructor(store: ResourceStore, kubelet: Kubelet, controller: JobController) {
    this.store = store;
    this.kubelet = kubelet;
    this.controller = controller;
  }

  delete(resource: Resource, namespace: string, name: string, propagationPolicy: string | undefined): void {
    if (resource === 'pods') {
      this.kubelet.terminate(namespace, name);
      return;
    }
    const removed = this.store.remove(resource, namespace, name);
    if (!removed) return;
    if (resource === 'jobs') this.controller.jobDeleted(removed);
    const policy = propagationPolicy ?? (resource === 'jobs' ? 'Orphan' : 'Background');
    if (policy === 'Orphan') {
      for (const kind of ['pods', 'secrets', 'jobs'] as const) {
        for (const dependent of this.store.list(kind)) {
          if (!dependent.metadata.ownerReferences?.some((o) => o.uid === removed.metadata.uid)) continue;
          this.store.update(kind, dependent.metadata.namespace, dependent.metadata.name, (o) => {
            o.metadata.ownerReferences = o.metadata.ownerReferences?.filter(
              (r) => r.uid !== removed.metadata.uid,
            );
          });
        }
      }
    }
    this.collect();
  }

  collect(): void {
    for (const kind of ['pods', 'secrets', 'jobs'] as const) {
      for (const object of this.store.list(kind)) {
        const owners = object.metadata.ownerReferences ?? [];
        if (!owners.length || owners.some((o) => this.store.hasUid(o.uid))) continue;
        if (kind === 'pods') {
          if (!object.metadata.deletionTimestamp)
            this.kubelet.terminate(object.metadata.namespace, object.metadata.name);
        } else {
          this.delete(kind, object.metadata.namespace, object.metadata.name, 'Background');
        }
      }
    }
  }
}
