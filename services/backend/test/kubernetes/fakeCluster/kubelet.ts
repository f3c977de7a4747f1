import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { quantity } from '../../../src/jobs/resourceLimits.ts';
import { PodLog } from './podLog.ts';
import type { KubeObject, ResourceStore } from './resourceStore.ts';

export interface KubeletOptions {
  /** The images' working directory /app: the repository root, where the trainers' entry points are. */
  appDir: string;
  /** Environment every image brings (PATH, the trainers' Python); the pod's own env comes on top. */
  imageEnv: Record<string, string>;
  /** Images no registry has: pulling them fails with ErrImagePull, then ImagePullBackOff. */
  unpullableImages: ReadonlySet<string>;
  /** A container whose memory limit is below this is OOM-killed shortly after it starts. */
  oomBelowBytes: number;
  /** nvidia.com/gpu the one node has; more than that makes the pod unschedulable. */
  gpus: number;
  nodeLabels: Record<string, string>;
  /** Called after every change of a pod's status, so the Job controller can follow. */
  onPodChanged(pod: KubeObject): void;
}

interface PodRuntime {
  log: PodLog;
  process?: ChildProcess;
  dirs: string[];
  stopped: boolean;
  oomKilled: boolean;
  deleting: boolean;
  exited?: Promise<void>;
}

const NODE = 'fake-node';
const STEP_MS = 30;
const OOM_AFTER_MS = 300;
const timestamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A quantity in bytes (or cores), with no limit where none is set or it cannot be read. */
export function quantityBytes(value: string | undefined): number {
  try {
    return value ? quantity(value) : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * One node's kubelet, with real processes for containers: scheduling (GPU capacity, node selector), image pulls
 * (known-bad images fail), env from Secrets, the container's command run from the repository root with its
 * mounts as temp dirs, its output as the pod log, OOM kills below a memory threshold, graceful deletion.
 */
export class Kubelet {
  private readonly store: ResourceStore;
  private readonly options: KubeletOptions;
  private readonly runtimes = new Map<string, PodRuntime>();
  private stopping = false;

  constructor(store: ResourceStore, options: KubeletOptions) {
    this.store = store;
    this.options = options;
  }

  /** The container's log once it has started; before that the API answers 400, as a real one does. */
  log(namespace: string, name: string): PodLog | undefined {
    const runtime = this.runtimes.get(`${namespace}/${name}`);
    return runtime?.process ? runtime.log : undefined;
  }

  admit(pod: KubeObject): void {
    const runtime: PodRuntime = {
      log: new PodLog(),
      dirs: [],
      stopped: false,
      oomKilled: false,
      deleting: false,
    };
    this.runtimes.set(`${pod.metadata.namespace}/${pod.metadata.name}`, runtime);
    this.run(pod, runtime).catch((err: Error) =>
      this.setContainer(pod, { waiting: { reason: 'RunContainerError', message: err.message } }),
    );
  }

  private setStatus(pod: KubeObject, change: (pod: KubeObject) => void): KubeObject | undefined {
    const updated = this.store.update('pods', pod.metadata.namespace, pod.metadata.name, change);
    if (updated) this.options.onPodChanged(updated);
    return updated;
  }

  private setContainer(pod: KubeObject, state: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const container = pod.spec.containers[0];
    return this.setStatus(pod, (p) => {
      p.status.containerStatuses = [
        {
          name: container.name,
          image: container.image,
          imageID: '',
          ready: Boolean(state.running),
          restartCount: 0,
          started: Boolean(state.running),
          state,
        },
      ];
      Object.assign(p.status, extra);
    });
  }

  /** Why no node fits, in the scheduler's words; undefined when the node fits. */
  private unschedulable(pod: KubeObject): string | undefined {
    const wanted = Number(pod.spec.containers[0]?.resources?.limits?.['nvidia.com/gpu'] ?? 0);
    const selector: Record<string, string> = pod.spec.nodeSelector ?? {};
    const mismatch = Object.entries(selector).some(([k, v]) => this.options.nodeLabels[k] !== v);
    const reason = mismatch
      ? "1 node(s) didn't match Pod's node affinity/selector"
      : wanted > this.options.gpus
        ? '1 Insufficient nvidia.com/gpu'
        : undefined;
    return (
      reason &&
      `0/1 nodes are available: ${reason}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`
    );
  }

  private async run(pod: KubeObject, runtime: PodRuntime): Promise<void> {
    await sleep(STEP_MS);
    if (runtime.stopped) return;
    const container = pod.spec.containers[0];
    const refusal = this.unschedulable(pod);
    if (refusal) {
      this.setStatus(pod, (p) => {
        p.status.conditions = [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: refusal,
            lastProbeTime: null,
            lastTransitionTime: timestamp(),
          },
        ];
      });
      return;
    }
    this.setStatus(pod, (p) => {
      p.spec.nodeName = NODE;
      p.status.conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: timestamp() }];
    });
    this.setContainer(
      pod,
      { waiting: { reason: 'ContainerCreating' } },
      { startTime: timestamp(), hostIP: '10.0.0.1' },
    );
    await sleep(STEP_MS);
    if (runtime.stopped) return;
    if (this.options.unpullableImages.has(container.image)) {
      this.setContainer(pod, {
        waiting: {
          reason: 'ErrImagePull',
          message: `failed to pull and unpack image "${container.image}": not found`,
        },
      });
      await sleep(STEP_MS * 3);
      if (runtime.stopped) return;
      this.setContainer(pod, {
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` },
      });
      return;
    }
    let env = this.resolveEnv(pod);
    let reported: string | undefined;
    while (typeof env === 'string') {
      if (env !== reported)
        this.setContainer(pod, { waiting: { reason: 'CreateContainerConfigError', message: env } });
      reported = env;
      await sleep(STEP_MS * 5);
      if (runtime.stopped) return;
      env = this.resolveEnv(pod);
    }
    await this.startContainer(pod, runtime, env);
  }

  /** The container's env with Secret references resolved; a string says what is missing, as the kubelet does. */
  private resolveEnv(pod: KubeObject): Record<string, string> | string {
    const env: Record<string, string> = {};
    for (const entry of pod.spec.containers[0].env ?? []) {
      const ref = entry.valueFrom?.secretKeyRef;
      if (!ref) {
        env[entry.name] = entry.value ?? '';
        continue;
      }
      const secret = this.store.get('secrets', pod.metadata.namespace, ref.name);
      if (!secret) return `secret "${ref.name}" not found`;
      const value = secret.data?.[ref.key];
      if (value === undefined)
        return `couldn't find key ${ref.key} in Secret ${pod.metadata.namespace}/${ref.name}`;
      env[entry.name] = Buffer.from(value, 'base64').toString('utf8');
    }
    return env;
  }

  private async startContainer(pod: KubeObject, runtime: PodRuntime, podEnv: Record<string, string>) {
    const container = pod.spec.containers[0];
    if (container.workingDir !== '/app') throw new Error(`the fake kubelet only runs images from /app`);
    // Each mount becomes a temp dir; pod env values that point into a mount point into the temp dir instead.
    // The image's own env (paths of what the image brings, on this host) is left as it is.
    const mounts: [string, string][] = [];
    for (const mount of container.volumeMounts ?? []) {
      const dir = await mkdtemp(join(tmpdir(), `fake-pod-${mount.name}-`));
      runtime.dirs.push(dir);
      mounts.push([mount.mountPath, dir]);
    }
    // Deleted while its volumes were being set up: nothing else will clean them.
    if (runtime.stopped) {
      await Promise.all(runtime.dirs.map((d) => rm(d, { recursive: true, force: true })));
      return;
    }
    const remap = (value: string) => {
      const hit = mounts.find(([path]) => value === path || value.startsWith(`${path}/`));
      return hit ? hit[1] + value.slice(hit[0].length) : value;
    };
    const env: Record<string, string> = {
      ...this.options.imageEnv,
      ...Object.fromEntries(Object.entries(podEnv).map(([k, v]) => [k, remap(v)])),
    };
    const tmp = mounts.find(([path]) => path === '/tmp');
    if (tmp) env.TMPDIR = tmp[1];
    const [command, ...args] = [...(container.command ?? []), ...(container.args ?? [])];
    if (!command) throw new Error('the fake kubelet needs an explicit command');
    // Its own process group: like a container's PID namespace, everything it started dies with it.
    const child = spawn(command === 'node' ? process.execPath : command, args, {
      cwd: this.options.appDir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runtime.process = child;
    child.stdout?.on('data', (chunk: Buffer) => runtime.log.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => runtime.log.append(chunk));
    const startedAt = timestamp();
    runtime.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.killGroup(child);
        runtime.log.end();
        if (!this.stopping) this.containerExited(pod, runtime, startedAt, code, signal);
        resolve();
      });
    });
    child.once('error', (err) => runtime.log.append(Buffer.from(`${err.message}\n`)));
    this.setContainer(pod, { running: { startedAt } }, { phase: 'Running', podIP: '10.1.0.2' });
    if (quantityBytes(container.resources?.limits?.memory) < this.options.oomBelowBytes) {
      setTimeout(() => {
        runtime.oomKilled = true;
        this.killGroup(child);
      }, OOM_AFTER_MS).unref();
    }
  }

  private killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  private containerExited(
    pod: KubeObject,
    runtime: PodRuntime,
    startedAt: string,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    const exitCode = runtime.oomKilled ? 137 : (code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    const reason = runtime.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const tail = runtime.log.tail();
    this.setContainer(
      pod,
      {
        terminated: {
          exitCode,
          reason,
          ...(exitCode !== 0 && tail ? { message: tail } : {}),
          startedAt,
          finishedAt: timestamp(),
          containerID: `fake://${pod.metadata.uid}`,
        },
      },
      { phase: exitCode === 0 ? 'Succeeded' : 'Failed' },
    );
    if (runtime.deleting) this.remove(pod);
  }

  /** Graceful deletion: SIGTERM to the container's main process, SIGKILL when the grace period runs out. */
  terminate(namespace: string, name: string): void {
    const runtime = this.runtimes.get(`${namespace}/${name}`);
    const pod = this.store.get('pods', namespace, name);
    if (!pod) return;
    if (!runtime?.process || runtime.process.exitCode !== null || runtime.process.signalCode !== null) {
      if (runtime) runtime.stopped = true;
      this.remove(pod);
      return;
    }
    if (runtime.deleting) return;
    runtime.deleting = true;
    const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
    this.setStatus(pod, (p) => {
      p.metadata.deletionTimestamp = timestamp();
      p.metadata.deletionGracePeriodSeconds = grace;
    });
    const child = runtime.process;
    child.kill('SIGTERM');
    setTimeout(() => this.killGroup(child), grace * 1000).unref();
  }

  private remove(pod: KubeObject): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const runtime = this.runtimes.get(key);
    this.runtimes.delete(key);
    if (runtime) void Promise.all(runtime.dirs.map((d) => rm(d, { recursive: true, force: true })));
    this.store.remove('pods', pod.metadata.namespace, pod.metadata.name);
  }

  /** The node goes away: every container is killed, no status is written any more. */
  async stop(): Promise<void> {
    this.stopping = true;
    const runtimes = [...this.runtimes.values()];
    for (const runtime of runtimes) {
      runtime.stopped = true;
      if (runtime.process) this.killGroup(runtime.process);
    }
    await Promise.all(runtimes.map((r) => r.exited));
    await Promise.all(runtimes.flatMap((r) => r.dirs.map((d) => rm(d, { recursive: true, force: true }))));
  }
}
