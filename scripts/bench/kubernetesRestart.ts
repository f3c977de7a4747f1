// A backend's Kubernetes manager starting again, in a process of its own so its memory is its own: the watch
// lists every platform Job and pod (the informers' caches), then reconcile matches them with the active jobs.
// Prints one JSON line. Run with --expose-gc: memory is measured after a collection.
import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '@vtp/service-kit';
import type { PlacedJob } from '../../services/backend/src/execution/executionManager.ts';
import { KubernetesExecutionManager } from '../../services/backend/src/execution/kubernetes/kubernetesExecutionManager.ts';
import { jobSettings } from '../../services/backend/test/kubernetes/fixtures.ts';

const [kubeconfigFile, activeFile] = process.argv.slice(2);
if (!kubeconfigFile || !activeFile)
  throw new Error('usage: kubernetesRestart.ts <kubeconfig> <active jobs json>');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const active = JSON.parse(await readFile(activeFile, 'utf8')) as PlacedJob[];
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigFile);

gc();
const before = process.memoryUsage().heapUsed;
const started = performance.now();
const manager = new KubernetesExecutionManager({
  kubeConfig,
  settings: jobSettings(),
  timing: { imagePullGraceMs: 60_000, unschedulableTimeoutMs: 60_000, outcomeGraceMs: 60_000 },
  logger: createLogger('bench-kubernetes', 'silent'),
  onClusterFailure: () => undefined,
  // The bench uploads no weights.
  weightsCheckTimeoutSeconds: 180,
});
await manager.watch();
const watchedMs = performance.now() - started;
const report = await manager.reconcile(async () => active);
const totalMs = performance.now() - started;
gc();
const heapBytes = process.memoryUsage().heapUsed - before;
await manager.stop();
process.stdout.write(
  `${JSON.stringify({ watchedMs, totalMs, heapBytes, adopted: report.adopted.length, lost: report.lost.length, deleted: report.deleted.length })}\n`,
);
