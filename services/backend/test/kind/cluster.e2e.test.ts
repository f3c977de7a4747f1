import * as k8s from '@kubernetes/client-node';
import type { Job } from '@vtp/shared-schemas';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/apiClient.ts';
import { events, finished, startLongTraining, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';

/**
 * `npm run test:kind`: the end-to-end scenarios against a real cluster running the platform (the Kind overlay,
 * `infra/kind/kind-up.sh`), through the cluster's kubeconfig (KUBECONFIG) and the backend's NodePort.
 * Skipped, saying why, when no cluster is reachable.
 */
const backendUrl = process.env.VTP_BACKEND_URL ?? 'http://127.0.0.1:30800';
const kubeConfig = new k8s.KubeConfig();

async function clusterProblem(): Promise<string | undefined> {
  try {
    kubeConfig.loadFromDefault();
    if (!kubeConfig.getCurrentCluster()) return 'no cluster in the kubeconfig (set KUBECONFIG)';
    await Promise.race([
      kubeConfig.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'platform' }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000)),
    ]);
    const ready = await fetch(`${backendUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.ok,
    );
    return ready ? undefined : `the backend at ${backendUrl} is not ready`;
  } catch (err) {
    return `no cluster with the platform reachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const problem = await clusterProblem();
if (problem) console.warn(`[test:kind] skipped: ${problem}`);

describe.skipIf(Boolean(problem))('the platform on a real cluster (EXECUTION_MODE=kubernetes)', () => {
  let user: ApiClient;
  const batch = () => kubeConfig.makeApiClient(k8s.BatchV1Api);

  beforeAll(async () => {
    const secret = await kubeConfig
      .makeApiClient(k8s.CoreV1Api)
      .readNamespacedSecret({ name: 'vtp-backend', namespace: 'platform' });
    const adminKey =
      process.env.VTP_ADMIN_API_KEY ?? Buffer.from(secret.data?.ADMIN_API_KEY ?? '', 'base64').toString();
    const admin = new ApiClient(backendUrl, adminKey);
    const created = await admin.post<{ key: string }>('/v1/api-keys', {
      user: `kind-e2e-${Date.now()}@example.com`,
    });
    user = new ApiClient(backendUrl, created.body.key);
  });

  it.each([
    ['ultralytics', 'yolo11n', 'yolo'],
    ['timm', 'test_resnet', 'imagefolder'],
  ] as const)(
    '%s trains as a Kubernetes Job and succeeds with checkpoints and per-epoch metrics',
    async (framework, model, format) => {
      const dataset = await uploadSample(user, format);
      const created = await user.post<Job>('/v1/jobs', {
        framework,
        model,
        datasetId: dataset.id,
        hyperparameters: { epochs: 2, imgsz: 64, batch: 4 },
      });
      const job = await waitForJob(user, created.body.id, finished, 900_000);
      expect(job.error).toBeNull();
      expect(job.status).toBe('succeeded');
      expect(job.artifacts.map((a) => a.kind)).toEqual(expect.arrayContaining(['best', 'last', 'log']));
      expect((await events(user, job.id)).filter((e) => e.type === 'progress')).toHaveLength(2);
      const jobs = await batch().listNamespacedJob({
        namespace: 'training',
        labelSelector: `vtp.dev/job-id=${job.id}`,
      });
      expect(jobs.items.length).toBeLessThanOrEqual(1);
    },
  );

  it('cancels a training by deleting its Job', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const id = await startLongTraining(user, dataset.id, 900_000);
    expect((await user.post<Job>(`/v1/jobs/${id}/cancel`)).status).toBe(202);
    const job = await waitForJob(user, id, finished, 300_000);
    expect(job.status).toBe('cancelled');
  });
});
