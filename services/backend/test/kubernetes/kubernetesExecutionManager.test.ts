import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@vtp/service-kit';
import type { JobError } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutorBusyError, TrainingRejectedError } from '../../src/execution/executionManager.ts';
import { KubernetesExecutionManager } from '../../src/execution/kubernetes/kubernetesExecutionManager.ts';
import type { TrainingJobSettings } from '../../src/execution/kubernetes/trainingJob.ts';
import type { JobRow } from '../../src/jobs/jobStore.ts';
import { FakeCluster } from './fakeCluster/fakeCluster.ts';
import { CALLBACK_TOKEN, jobRow, jobSettings, trainingSpec } from './fixtures.ts';

const repoRoot = resolve(import.meta.dirname, '../../../..');
const MISSING_IMAGE = 'registry.invalid/vtp/trainer-timm:missing';
const logger = createLogger('kubernetes-test', process.env.TEST_LOG_LEVEL ?? 'silent');

let cluster: FakeCluster;
const failures: { jobId: string; error: JobError }[] = [];
const managers: KubernetesExecutionManager[] = [];

/** A manager on the fake cluster whose pods run the script in hyperparameters.script instead of a trainer. */
async function newManager(
  settings: Partial<TrainingJobSettings> = {},
  on: FakeCluster = cluster,
): Promise<KubernetesExecutionManager> {
  const manager = new KubernetesExecutionManager({
    kubeConfig: on.kubeConfig(),
    settings: jobSettings({
      command: (spec) => ['node', '-e', String(spec.hyperparameters.script)],
      deadlineSlackSeconds: 0,
      ...settings,
    }),
    // Conditions carry whole seconds, as in a real cluster: the scheduling timeout is longer than that.
    timing: { imagePullGraceMs: 300, unschedulableTimeoutMs: 1500, outcomeGraceMs: 300 },
    logger,
    onClusterFailure: ({ jobId }, error) => failures.push({ jobId, error }),
    recheckIntervalMs: 100,
    weightsCheckTimeoutSeconds: 60,
  });
  managers.push(manager);
  await manager.watch();
  return manager;
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const failureOf = (jobId: string) =>
  until(`a cluster failure of ${jobId}`, () => failures.find((f) => f.jobId === jobId));

function scriptJob(script: string, overrides: Partial<JobRow> = {}): JobRow {
  return jobRow({ hyperparameters: { script }, ...overrides });
}

async function started(manager: KubernetesExecutionManager, job: JobRow) {
  const placement = await manager.start(job, trainingSpec(job));
  return { ...job, placement };
}

function podOf(job: JobRow) {
  return cluster.list('pods', 'training', `vtp.dev/job-id=${job.id}`)[0];
}

const RUNS_UNTIL_TERM = `
  process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
  console.log('training'); setInterval(() => {}, 1000);`;

let manager: KubernetesExecutionManager;

beforeAll(async () => {
  cluster = await FakeCluster.start({
    appDir: repoRoot,
    unpullableImages: [MISSING_IMAGE],
    oomBelowBytes: 64 * 1024 ** 2,
  });
  manager = await newManager();
});

afterAll(async () => {
  await Promise.all(managers.map((m) => m.stop()));
  await cluster?.stop();
});

describe('kubernetes execution manager', () => {
  it('creates the Job and its callback Secret, owned by the Job; the pod gets the token from the Secret only', async () => {
    const job = await started(
      manager,
      scriptJob(`
        const spec = JSON.parse(process.env.TRAINING_SPEC_JSON);
        console.log(JSON.stringify({ token: process.env.CALLBACK_TOKEN, specToken: spec.callback.token ?? null,
          key: process.env.AWS_ACCESS_KEY_ID, workDir: process.env.WORK_DIR, jobId: spec.jobId }));`),
    );
    expect(job.placement).toMatchObject({ mode: 'kubernetes', namespace: 'training' });
    const jobName = job.placement.jobName as string;
    const stored = cluster.get('jobs', 'training', jobName);
    expect(stored?.metadata.labels?.['vtp.dev/job-id']).toBe(job.id);
    expect(JSON.stringify(stored)).not.toContain(CALLBACK_TOKEN);
    const secret = cluster.get('secrets', 'training', `${jobName}-callback`);
    expect(secret?.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: stored?.metadata.uid },
    ]);
    await until('the Job to complete', async () => (await manager.status(job)).kind === 'finished');
    expect(await manager.status(job)).toEqual({
      kind: 'finished',
      outcome: 'succeeded',
      at: expect.any(Date),
    });
    const log = await manager.logs(job, { follow: false });
    const seen = JSON.parse((await log?.toArray())?.join('') ?? '{}');
    expect(seen).toMatchObject({ token: CALLBACK_TOKEN, specToken: null, jobId: job.id });
    expect(seen.key).toBeUndefined(); // no storage credentials: the trainer gets presigned URLs
    expect(seen.workDir).not.toBe('/work'); // the fake kubelet's stand-in for the emptyDir
    // It exited without a final report (a real trainer sends one first): the backend hears `lost`.
    expect((await failureOf(job.id)).error.code).toBe('lost');
  });

  it('adopts a Job an earlier hand-over created, and gives its Secret the current token', async () => {
    const job = scriptJob(RUNS_UNTIL_TERM);
    const first = await manager.start(job, trainingSpec(job));
    const newToken = 'vtpcb_second_handover_token_abcdef0123';
    const spec = trainingSpec(job);
    const second = await manager.start(job, { ...spec, callback: { ...spec.callback, token: newToken } });
    expect(second).toEqual(first);
    expect(cluster.list('jobs', 'training', `vtp.dev/job-id=${job.id}`)).toHaveLength(1);
    const secret = cluster.get('secrets', 'training', `${first.jobName}-callback`);
    expect(Buffer.from(secret?.data.token, 'base64').toString()).toBe(newToken);
    expect(secret?.metadata.ownerReferences?.[0]?.name).toBe(first.jobName);
    await manager.cancel({ ...job, placement: first });
  });

  it('replaces an ended Job of an earlier hand-over instead of adopting it', async () => {
    const job = await started(manager, scriptJob(`process.exit(0)`));
    await until('the Job to complete', async () => (await manager.status(job)).kind === 'finished');
    const again = await manager.start(job, trainingSpec(job)).catch((err) => err);
    expect(again.message).toMatch(/had already ended/);
    expect(cluster.get('jobs', 'training', job.placement.jobName as string)).toBeUndefined();
    await until(
      'the old Secret to be collected',
      () => !cluster.get('secrets', 'training', `${job.placement.jobName}-callback`),
    );
    expect(await manager.start(job, trainingSpec(job))).toEqual(job.placement);
    expect(await manager.status(job)).toEqual({ kind: 'active' });
  });

  it('cancels by deleting the Job: the pod gets SIGTERM, the Secret is collected, no failure is reported', async () => {
    const job = await started(manager, scriptJob(RUNS_UNTIL_TERM));
    const jobName = job.placement.jobName as string;
    await until('the pod to run', () => podOf(job)?.status?.phase === 'Running');
    const log = await manager.logs(job, { follow: true });
    let text = '';
    log?.on('data', (chunk) => {
      text += chunk;
    });
    await until('the script to be ready for SIGTERM', () => text.includes('training'));
    await manager.cancel(job);
    expect(cluster.get('jobs', 'training', jobName)).toBeUndefined();
    expect(cluster.get('secrets', 'training', `${jobName}-callback`)).toBeUndefined();
    await finished(log as Readable);
    expect(text).toBe('training\ngot SIGTERM\n');
    await until('the pod to go', () => !podOf(job));
    expect(await manager.status(job)).toEqual({ kind: 'unknown' });
    await manager.cancel(job); // a second cancel finds nothing and is fine
    await sleep(500);
    expect(failures.find((f) => f.jobId === job.id)).toBeUndefined();
  });

  it('streams the pod log while the training runs, and ends with it', async () => {
    const job = await started(
      manager,
      scriptJob(`console.log('epoch 1'); setTimeout(() => console.log('epoch 2'), 500);`),
    );
    await until('the pod to run', () => podOf(job)?.status?.phase === 'Running');
    const log = await manager.logs(job, { follow: true });
    const chunks: string[] = [];
    for await (const chunk of log ?? []) chunks.push(String(chunk));
    expect(chunks.join('')).toBe('epoch 1\nepoch 2\n');
  });

  it('fails a training no node can take as trainer_unavailable with the scheduler message, and deletes its Job', async () => {
    const job = await started(manager, scriptJob(RUNS_UNTIL_TERM, { resources: { gpu: 1 } }));
    await until(
      'the pod to be refused',
      () => podOf(job)?.status?.conditions?.[0]?.reason === 'Unschedulable',
    );
    // Neither a pod that never started nor a job without a pod has a log.
    expect(await manager.logs(job, { follow: true })).toBeUndefined();
    expect(await manager.logs(jobRow(), { follow: false })).toBeUndefined();
    expect(await manager.status(job)).toEqual({ kind: 'active' });
    const { error } = await failureOf(job.id);
    expect(error.code).toBe('trainer_unavailable');
    expect(error.message).toMatch(/0\/1 nodes are available/);
    await until(
      'the Job to be deleted',
      () => !cluster.get('jobs', 'training', job.placement.jobName as string),
    );
  });

  it('fails a training whose image cannot be pulled as trainer_unavailable, naming the image', async () => {
    const pulling = await newManager({ images: { ultralytics: MISSING_IMAGE, timm: MISSING_IMAGE } });
    const job = await started(pulling, scriptJob(RUNS_UNTIL_TERM));
    const { error } = await failureOf(job.id);
    expect(error.code).toBe('trainer_unavailable');
    expect(error.message).toContain(MISSING_IMAGE);
    expect(podOf(job)?.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? 'gone').toMatch(
      /ImagePullBackOff|gone/,
    );
    await until(
      'the Job to be deleted',
      () => !cluster.get('jobs', 'training', job.placement.jobName as string),
    );
  });

  it('fails an OOM-killed training as out_of_memory', async () => {
    const job = await started(manager, scriptJob(RUNS_UNTIL_TERM, { resources: { memory: '32Mi' } }));
    const { error } = await failureOf(job.id);
    expect(error).toMatchObject({ code: 'out_of_memory' });
    expect(error.message).toContain('32Mi');
    expect(podOf(job)?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
  });

  it('fails a training the cluster stopped at its deadline as time_limit_exceeded', async () => {
    const job = await started(manager, scriptJob(RUNS_UNTIL_TERM, { max_duration_seconds: 1 }));
    const { error } = await failureOf(job.id);
    expect(error.code).toBe('time_limit_exceeded');
    expect(await manager.status(job)).toEqual({
      kind: 'finished',
      outcome: 'failed',
      error: { code: 'lost', message: expect.stringContaining("its trainer's report never arrived") },
      at: expect.any(Date),
    });
  });

  it('fails a trainer that crashed without a report as framework_error, with its last lines', async () => {
    const job = await started(manager, scriptJob(`console.error('Traceback: boom'); process.exit(3);`));
    const { error } = await failureOf(job.id);
    expect(error.code).toBe('framework_error');
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('Traceback: boom');
  });

  it('turns API refusals into rejected trainings with the API message, and a full quota into "busy"', async () => {
    const invalid = scriptJob(RUNS_UNTIL_TERM, { resources: { cpu: '-1' } });
    const refused = await manager.start(invalid, trainingSpec(invalid)).catch((err) => err);
    expect(refused).toBeInstanceOf(TrainingRejectedError);
    expect(refused.message).toMatch(/must be greater than or equal to 0/);

    const elsewhere = await newManager({ namespace: 'kube-system' });
    const forbidden = await elsewhere.start(scriptJob('1'), trainingSpec(scriptJob('1'))).catch((err) => err);
    expect(forbidden).toBeInstanceOf(TrainingRejectedError);
    expect(forbidden).toMatchObject({ code: 'trainer_unavailable' });
    expect(forbidden.message).toMatch(
      /cannot create resource "secrets" in API group "" in the namespace "kube-system"/,
    );

    const full = await FakeCluster.start({ appDir: repoRoot, maxJobs: 0 });
    try {
      const job = scriptJob('1');
      const busy = await (await newManager({}, full)).start(job, trainingSpec(job)).catch((err) => err);
      expect(busy).toBeInstanceOf(ExecutorBusyError);
      expect(busy.message).toMatch(/exceeded quota/);
    } finally {
      await full.stop();
    }
  });

  it('reconciles at start-up: adopts running Jobs, fails vanished ones as lost, deletes leftovers', async () => {
    const running = await started(manager, scriptJob(RUNS_UNTIL_TERM));
    const ended = await started(manager, scriptJob(RUNS_UNTIL_TERM));
    await until('both pods to run', () =>
      [running, ended].every((j) => podOf(j)?.status?.phase === 'Running'),
    );
    const vanished = jobRow({ status: 'running' });
    const handingOver = jobRow({ status: 'dispatching' });
    cluster.seed('secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'vtp-train-orphan-callback',
        namespace: 'training',
        labels: {
          'app.kubernetes.io/part-of': 'vtp',
          'app.kubernetes.io/managed-by': 'vtp-backend',
          'vtp.dev/job-id': jobRow().id,
        },
      } as never,
      data: { token: Buffer.from('stale').toString('base64') },
    });

    // A backend that starts again: a new manager reads the cluster, then the database's active jobs.
    const restarted = await newManager();
    const report = await restarted.reconcile(async () => [
      { ...running, status: 'running' },
      vanished,
      handingOver,
    ]);
    expect(report.adopted).toEqual([running.id]);
    expect(report.lost).toEqual([vanished.id]);
    expect(report.deleted).toContain(ended.placement.jobName);
    expect(report.deleted).not.toContain(running.placement.jobName);
    expect(failures.find((f) => f.jobId === vanished.id)?.error.code).toBe('lost');
    expect(failures.find((f) => f.jobId === handingOver.id)).toBeUndefined();
    expect(cluster.get('jobs', 'training', ended.placement.jobName as string)).toBeUndefined();
    expect(cluster.get('secrets', 'training', 'vtp-train-orphan-callback')).toBeUndefined();
    expect(await restarted.status(running)).toEqual({ kind: 'active' });
    await restarted.cancel(running);
  });
});
