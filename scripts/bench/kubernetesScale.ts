// The Kubernetes manager at scale, against the API test double (its kubelet runs each pod's command as a
// process: here `sleep`, the trainer is not what is measured): 100 trainings handed over at once, then a
// restart of the manager with 1,000 Jobs in the cluster.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@vtp/service-kit';
import { KubernetesExecutionManager } from '../../services/backend/src/execution/kubernetes/kubernetesExecutionManager.ts';
import { FakeCluster } from '../../services/backend/test/kubernetes/fakeCluster/fakeCluster.ts';
import { jobRow, jobSettings, trainingSpec } from '../../services/backend/test/kubernetes/fixtures.ts';
import type { ScaleRow } from './dispatchAtScale.ts';
import { firstLine, mib, percentile } from './measure.ts';

interface Context {
  repoRoot: string;
  dir: string;
  smoke: boolean;
  say(line: string): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureKubernetesScale(c: Context): Promise<ScaleRow[]> {
  const concurrent = c.smoke ? 10 : 100;
  const total = c.smoke ? 50 : 1000;
  const cluster = await FakeCluster.start({ appDir: c.repoRoot, imageEnv: { PATH: process.env.PATH ?? '' } });
  let failures = 0;
  const manager = new KubernetesExecutionManager({
    kubeConfig: cluster.kubeConfig(),
    settings: jobSettings({ command: () => ['sleep', '3600'] }),
    timing: { imagePullGraceMs: 60_000, unschedulableTimeoutMs: 60_000, outcomeGraceMs: 60_000 },
    logger: createLogger('bench-kubernetes', 'warn'),
    onClusterFailure: () => {
      failures += 1;
    },
    // The bench uploads no weights.
    weightsCheckTimeoutSeconds: 180,
  });
  try {
    await manager.watch();
    const running = () => cluster.list('pods').filter((pod) => pod.status?.phase === 'Running').length;
    const handOver = async (count: number) => {
      const jobs = Array.from({ length: count }, () => jobRow({ status: 'running' }));
      const latencies: number[] = [];
      await Promise.all(
        jobs.map(async (job) => {
          const sent = performance.now();
          await manager.start(job, trainingSpec(job));
          latencies.push(performance.now() - sent);
        }),
      );
      return { jobs, latencies };
    };
    const waitRunning = async (count: number) => {
      const deadline = Date.now() + 600_000;
      while (running() < count) {
        if (Date.now() > deadline) throw new Error(`only ${running()} of ${count} pods running`);
        await sleep(100);
      }
    };

    const started = performance.now();
    const first = await handOver(concurrent);
    await waitRunning(concurrent);
    const allRunningMs = performance.now() - started;
    c.say(
      `${concurrent} trainings handed over at once: p95 ${percentile(first.latencies, 95).toFixed(0)} ms each, all running after ${(allRunningMs / 1000).toFixed(1)} s`,
    );
    const active = [...first.jobs];
    while (active.length < total) active.push(...(await handOver(Math.min(100, total - active.length))).jobs);
    await waitRunning(total);
    c.say(`${total} Jobs running; restarting the manager`);
    await manager.stop();

    const kubeconfig = await cluster.writeKubeconfig(c.dir);
    const activeFile = join(c.dir, 'kubernetes-active.json');
    await writeFile(activeFile, JSON.stringify(active));
    const child = spawn(
      process.execPath,
      ['--expose-gc', join(c.repoRoot, 'scripts/bench/kubernetesRestart.ts'), kubeconfig, activeFile],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const restart = JSON.parse(await firstLine(child)) as {
      watchedMs: number;
      totalMs: number;
      heapBytes: number;
      adopted: number;
      lost: number;
      deleted: number;
    };
    c.say(`restart: ${JSON.stringify(restart)}`);
    const allAdopted = restart.adopted === total && restart.lost === 0 && restart.deleted === 0;
    return [
      {
        // The double's kubelet starts each pod's process in this very process, so hand-over times here say more
        // about it than about the manager: the row checks that all of them run, and shows the times.
        name: `kubernetes: ${concurrent} trainings handed over at once (API test double), pods running`,
        value: `${concurrent - failures} of ${concurrent} running after ${(allRunningMs / 1000).toFixed(1)} s (hand-over p95 ${percentile(first.latencies, 95).toFixed(0)} ms)`,
        baseline: '-',
        ratio: (concurrent - failures) / concurrent,
        target: 1,
        lowerIsBetter: false,
      },
      {
        name: `kubernetes: restart with ${total} Jobs running, watch synced and reconciled, seconds`,
        value: `${(restart.totalMs / 1000).toFixed(2)} s (watch ${(restart.watchedMs / 1000).toFixed(2)} s); ${restart.adopted} adopted, ${restart.lost} lost, ${restart.deleted} deleted`,
        baseline: '-',
        ratio: allAdopted ? restart.totalMs / 1000 : Number.POSITIVE_INFINITY,
        target: 5,
        lowerIsBetter: true,
      },
      {
        name: `kubernetes: the watch's memory (informer caches of ${total} Jobs and pods), MiB`,
        value: `${mib(restart.heapBytes)} of heap`,
        baseline: '-',
        ratio: restart.heapBytes / 1024 / 1024,
        target: 256,
        lowerIsBetter: true,
      },
    ];
  } finally {
    await manager.stop();
    await cluster.stop();
  }
}
