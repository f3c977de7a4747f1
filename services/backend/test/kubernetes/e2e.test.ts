import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset, Job, Weights } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import {
  events,
  finished,
  repoRoot,
  startLongTraining,
  trainerPython,
  waitFor,
  waitForJob,
} from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';
import { craftWeights } from '../support/weightsFiles.ts';
import { FakeCluster } from './fakeCluster/fakeCluster.ts';

const IMAGES = {
  ultralytics: 'ghcr.io/vtp/trainer-ultralytics:e2e',
  timm: 'ghcr.io/vtp/trainer-timm:e2e',
};

/**
 * The backend in kubernetes mode against the fake cluster: every training is a Job whose pod runs the real
 * trainer `run` entry point (real Ultralytics and timm on the CPU) with the spec and token the pod spec gives it,
 * and no storage settings or credentials (it reads and writes through presigned URLs); the backend learns
 * everything through the trainer's callbacks, and a restarted backend picks up the Jobs still running.
 */
describe('training end to end (EXECUTION_MODE=kubernetes)', () => {
  let cluster: FakeCluster;
  let kubeDir: string;
  let t: TestBackend;
  let user: ApiClient;
  let yolo: Dataset;
  let images: Dataset;

  beforeAll(async () => {
    // The images bring their Python; here, the one `npm run python:env` prepared.
    cluster = await FakeCluster.start({
      appDir: repoRoot,
      imageEnv: { PATH: process.env.PATH ?? '', VTP_PYTHON: trainerPython() },
    });
    kubeDir = await mkdtemp(join(tmpdir(), 'vtp-kube-'));
    vi.stubEnv('KUBECONFIG', await cluster.writeKubeconfig(kubeDir));
    t = await startTestBackend({
      EXECUTION_MODE: 'kubernetes',
      TRAINER_IMAGE_ULTRALYTICS: IMAGES.ultralytics,
      TRAINER_IMAGE_TIMM: IMAGES.timm,
      DEFAULT_CPU: '1',
      DEFAULT_MEMORY: '2Gi',
      RUN_DISPATCHER: 'true',
      MONITOR_INTERVAL_MS: '500',
      HEARTBEAT_TIMEOUT_SECONDS: '30',
    });
    user = await t.newUser();
    yolo = await uploadSample(user, 'yolo');
    images = await uploadSample(user, 'imagefolder');
  });

  afterAll(async () => {
    await t?.stop();
    await cluster?.stop();
    vi.unstubAllEnvs();
    if (kubeDir) await rm(kubeDir, { recursive: true, force: true });
  });

  const trainingJob = (job: Job) => cluster.list('jobs', 'training', `vtp.dev/job-id=${job.id}`)[0];

  it.each([
    ['ultralytics', 'yolo11n', () => yolo.id, 'metrics/mAP50(B)'],
    ['timm', 'test_resnet', () => images.id, 'val/top1'],
  ] as const)(
    '%s trains in a Job pod and reports through its callbacks; its ONNX exports, at creation and later, run in Job pods too',
    async (framework, model, dataset, metric) => {
      const created = await user.post<Job>('/v1/jobs', {
        framework,
        model,
        datasetId: dataset(),
        hyperparameters: { epochs: 2, imgsz: 64, batch: 4 },
        export: ['onnx'],
      });
      expect(created.status).toBe(201);
      const job = await waitForJob(user, created.body.id, finished, 120_000);
      expect(job.error).toBeNull();
      expect(job.status).toBe('succeeded');
      expect(job.latestMetrics?.[metric]).toEqual(expect.any(Number));
      expect((await events(user, job.id)).at(-1)?.type).toBe('completed');
      expect(job.artifacts.map((a) => a.kind)).toEqual(
        expect.arrayContaining(['best', 'last', 'log', 'onnx']),
      );

      // The trainer reports its outcome before its process exits: the Job completes a moment later.
      const k8sJob = await waitFor('the Job to complete', async () => {
        const found = trainingJob(job);
        return found?.status.conditions?.[0]?.type === 'Complete' && found;
      });
      expect(k8sJob.spec.template.spec.containers[0].image).toBe(IMAGES[framework]);
      const pod = cluster.list('pods', 'training', `vtp.dev/job-id=${job.id}`)[0];
      expect(pod?.status.containerStatuses[0].state.terminated.exitCode).toBe(0);
      expect((await user.get(`/v1/jobs/${job.id}/logs`)).text.length).toBeGreaterThan(0);

      // A later export is a Job of its own, whose pod exports the checkpoint (a cold runner, no dataset).
      const requested = await user.post<Job>(`/v1/jobs/${job.id}/exports`, { format: 'onnx' });
      expect(requested.status).toBe(202);
      const exported = await waitForJob(user, requested.body.id, finished, 180_000);
      expect(exported.error).toBeNull();
      expect(exported.status).toBe('succeeded');
      expect(exported.artifacts.map((a) => a.kind).sort()).toEqual(['log', 'metrics', 'onnx']);
      const exportPod = await waitFor('the export Job to complete', async () => {
        const found = trainingJob(exported);
        return found?.status.conditions?.[0]?.type === 'Complete' && found;
      });
      expect(exportPod.spec.template.spec.containers[0].image).toBe(IMAGES[framework]);
    },
    // Two Job pods each, the second a cold Python start: slow on a busy machine.
    360_000,
  );

  it('checks uploaded weights in a Job of the trainer image, and deletes the Job once it has the verdict', {
    timeout: 300_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vtp-kube-weights-'));
    try {
      await craftWeights(dir);
      const uploadWeights = async (name: string, model: string) => {
        const form = new FormData();
        form.set('name', name);
        form.set('framework', 'timm');
        form.set('model', model);
        form.set('file', new Blob([new Uint8Array(await readFile(join(dir, name)))]), name);
        return user.request('POST', '/v1/weights', { form });
      };
      const accepted = await uploadWeights('test_resnet.safetensors', 'test_resnet');
      expect(accepted.status, accepted.text).toBe(201);
      expect(accepted.body as Weights).toMatchObject({ format: 'safetensors', numClasses: 1000 });
      const refused = await uploadWeights('test_efficientnet.pth', 'test_resnet');
      expect(refused.status, refused.text).toBe(422);
      expect((refused.body as { issues: { message: string }[] }).issues[0]?.message).toMatch(
        /do not fit test_resnet/,
      );
      expect(await t.objectKeys('weights/')).toHaveLength(1);
      // Neither check Job is left, and the training watch never took one for a training.
      expect(cluster.list('jobs', 'training', 'app.kubernetes.io/component=weights-check')).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cancels by deleting the Job: the trainer reports cancelled with a checkpoint', async () => {
    const id = await startLongTraining(user, images.id);
    const live = await user.get(`/v1/jobs/${id}/logs`);
    expect(live.text.length).toBeGreaterThan(0);
    expect((await user.post<Job>(`/v1/jobs/${id}/cancel`)).status).toBe(202);
    const job = await waitForJob(user, id, finished, 60_000);
    expect(job.status).toBe('cancelled');
    expect(job.artifacts.map((a) => a.kind)).toContain('last');
    expect(trainingJob(job)).toBeUndefined();
  });

  // Two real trainings side by side, a restart and a retry: minutes on a busy 2-core machine (its waits add up
  // past the default 60 s).
  it('a restarted backend adopts the Jobs still running, and retries the ones that vanished (lost) in a Job of their own', {
    timeout: 300_000,
  }, async () => {
    const start = (epochs: number) =>
      user.post<Job>('/v1/jobs', {
        framework: 'timm',
        model: 'test_resnet',
        datasetId: images.id,
        hyperparameters: { epochs, imgsz: 64, batch: 2 },
        maxRetries: 1,
      });
    const adopted = (await start(4)).body;
    const vanished = (await start(200)).body;
    for (const { id } of [adopted, vanished])
      await waitForJob(user, id, (j) => j.progress.epoch >= 1, 120_000);
    const before = trainingJob(adopted);
    // Deleted behind the backend's back, its pod left running (Orphan): only reconcile can notice.
    const gone = trainingJob(vanished);
    cluster.delete('jobs', 'training', gone?.metadata.name as string, 'Orphan');
    await t.restart();

    const lost = await waitForJob(user, vanished.id, (j) => j.attempt === 2, 30_000);
    expect(lost.attempts[0]).toMatchObject({ attempt: 1, status: 'failed', error: { code: 'lost' } });
    for (const pod of cluster.list('pods', 'training', `vtp.dev/job-id=${vanished.id},vtp.dev/attempt=1`))
      cluster.delete('pods', 'training', pod.metadata.name);
    const retried = await waitForJob(user, vanished.id, (j) => j.status === 'running', 120_000);
    expect(retried.attempts[1]).toMatchObject({ attempt: 2, status: 'running' });
    const [retryJob] = cluster.list('jobs', 'training', `vtp.dev/job-id=${vanished.id},vtp.dev/attempt=2`);
    expect(retryJob?.metadata.name).not.toBe(gone?.metadata.name);
    expect((await user.post(`/v1/jobs/${vanished.id}/cancel`)).status).toBe(202);
    expect((await waitForJob(user, vanished.id, finished, 60_000)).status).toBe('cancelled');

    const job = await waitForJob(user, adopted.id, finished, 120_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(job.progress.epoch).toBe(4);
    // The same Job throughout: adopted, neither lost nor started again.
    expect(trainingJob(job)?.metadata.uid).toBe(before?.metadata.uid);
  });
});
