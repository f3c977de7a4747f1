import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import {
  buildCallbackSecret,
  buildTrainingJob,
  buildWeightsCheckJob,
  ownedByJob,
  PLATFORM_SELECTOR,
  trainingJobName,
} from '../../src/execution/kubernetes/trainingJob.ts';
import { CALLBACK_TOKEN, jobRow, jobSettings, trainingSpec } from './fixtures.ts';

function build(overrides: Parameters<typeof jobRow>[0] = {}, settings = jobSettings()) {
  const job = jobRow(overrides);
  const spec = trainingSpec(job);
  const built = buildTrainingJob(spec, job, settings);
  const pod = built.spec?.template.spec;
  const container = pod?.containers[0];
  const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e]));
  return { job, spec, built, pod, container, env };
}

describe('training Job builder', () => {
  it('builds a batch/v1 Job that passes the Kubernetes schema', () => {
    const { built } = build({ resources: { cpu: '500m', memory: '2Gi', gpu: 1 }, max_duration_seconds: 600 });
    expect(() => new Job(built as never).validate()).not.toThrow();
    // The validator does look: a container without a name fails it.
    const nameless = structuredClone(built);
    const [container] = nameless.spec?.template.spec?.containers ?? [];
    delete (container as { name?: string }).name;
    expect(() => new Job(nameless as never).validate()).toThrow(/name/);
  });

  it('keeps the callback token out of the Job; only the Secret holds it', () => {
    const { built, spec, env } = build();
    expect(JSON.stringify(built)).not.toContain(CALLBACK_TOKEN);
    expect(JSON.stringify(built)).not.toContain(Buffer.from(CALLBACK_TOKEN).toString('base64'));
    const secret = buildCallbackSecret(built.metadata?.name as string, spec, jobSettings());
    expect(() => new Secret(secret as never).validate()).not.toThrow();
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString()).toBe(CALLBACK_TOKEN);
    expect(env.CALLBACK_TOKEN?.valueFrom?.secretKeyRef).toEqual({
      name: secret.metadata?.name,
      key: 'token',
    });
    // The spec itself travels whole, minus the token (a later attempt's firstSeq included).
    const { callback, ...rest } = spec;
    expect(JSON.parse(env.TRAINING_SPEC_JSON?.value ?? '')).toEqual({
      ...rest,
      callback: { url: callback.url, storageUrl: callback.storageUrl, firstSeq: callback.firstSeq },
    });
  });

  it('runs a hardened pod: non-root, read-only root, no privileges, no service account token', () => {
    const { pod, container } = build();
    expect(pod).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    expect(container?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    const mounts = Object.fromEntries((container?.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
    expect(mounts).toMatchObject({ '/work': 'work', '/tmp': 'tmp' });
    const sizeLimits = Object.fromEntries((pod?.volumes ?? []).map((v) => [v.name, v.emptyDir?.sizeLimit]));
    expect(sizeLimits).toEqual({ work: '50Gi', tmp: '2Gi', shm: '1Gi' });
  });

  it("runs the framework's trainer image and `run` entry point with the job's spec, and no storage settings", () => {
    const { built, container, env, job } = build({ framework: 'ultralytics', model: 'yolo11n' });
    expect(container?.image).toBe('ghcr.io/vtp/trainer-ultralytics:1.0.0');
    expect(container?.command).toEqual(['node', 'services/trainer-ultralytics/src/main.ts', 'run']);
    expect(container?.workingDir).toBe('/app');
    expect(env.WORK_DIR?.value).toBe('/work');
    // The trainer reaches objects through its job's presigned URLs only: no endpoint, no credentials.
    expect(Object.keys(env).sort()).toEqual(['CALLBACK_TOKEN', 'HOME', 'TRAINING_SPEC_JSON', 'WORK_DIR']);
    expect(container?.envFrom).toBeUndefined();
    expect(built.metadata?.labels).toEqual({
      'app.kubernetes.io/name': 'vtp-trainer',
      'app.kubernetes.io/component': 'training',
      'app.kubernetes.io/part-of': 'vtp',
      'app.kubernetes.io/managed-by': 'vtp-backend',
      'vtp.dev/job-id': job.id,
      'vtp.dev/attempt': '1',
      'vtp.dev/framework': 'ultralytics',
    });
    expect(built.spec?.template.metadata?.labels).toEqual(built.metadata?.labels);
  });

  it('names the Job stably within DNS-1123 limits, leaving room for the pod suffix', () => {
    const { built, job } = build();
    const name = built.metadata?.name as string;
    expect(name).toBe(trainingJobName(job.id));
    expect(name).toMatch(/^vtp-train-[0-9a-f]{8}-[0-9a-f]{10}$/);
    expect(name.startsWith(`vtp-train-${job.id.slice(0, 8)}`)).toBe(true);
    expect(`${name}-abcde`.length).toBeLessThanOrEqual(63);
    expect(trainingJobName(job.id)).toBe(name);
    expect(trainingJobName(jobRow().id)).not.toBe(name);
    // A retry runs as a Job of its own, never adopting the one of the attempt that failed.
    expect(trainingJobName(job.id, 2)).not.toBe(name);
    expect(trainingJobName(job.id, 2)).toMatch(/^vtp-train-[0-9a-f]{8}-[0-9a-f]{10}$/);
  });

  it('never retries, deletes itself after the TTL, and stops at the time limit plus slack', () => {
    expect(build({ max_duration_seconds: 600 }).built.spec).toMatchObject({
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      activeDeadlineSeconds: 660,
    });
    expect(build().built.spec?.activeDeadlineSeconds).toBeUndefined();
  });

  it("asks for the job's resources, else the defaults, as requests and limits", () => {
    expect(build({ resources: { cpu: '4', memory: '16Gi' } }).container?.resources).toEqual({
      requests: { cpu: '4', memory: '16Gi' },
      limits: { cpu: '4', memory: '16Gi' },
    });
    const plain = build();
    expect(plain.container?.resources).toEqual({
      requests: { cpu: '2', memory: '8Gi' },
      limits: { cpu: '2', memory: '8Gi' },
    });
    expect(plain.pod?.nodeSelector).toBeUndefined();
    expect(plain.pod?.tolerations).toBeUndefined();
  });

  it('sends GPU trainings to GPU nodes, tolerating their taint', () => {
    const { container, pod } = build({ resources: { gpu: 2 } });
    expect(container?.resources?.limits).toEqual({ cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '2' });
    expect(pod?.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod?.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it("carries the creator's trace context as annotations", () => {
    const job = jobRow();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const built = buildTrainingJob(
      trainingSpec(job, { traceContext: { traceparent, tracestate: 'vtp=1' } }),
      job,
      jobSettings(),
    );
    expect(built.metadata?.annotations).toEqual({
      'vtp.dev/traceparent': traceparent,
      'vtp.dev/tracestate': 'vtp=1',
    });
  });

  it('tells the trainer where to export its spans only when an endpoint is set', () => {
    expect(build({}).env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const { env } = build({}, jobSettings({ otlpEndpoint: 'http://alloy.observability:4318' }));
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT?.value).toBe('http://alloy.observability:4318');
  });

  it('lets tests replace the command, and nothing else', () => {
    const { container } = build({}, jobSettings({ command: () => ['node', '-e', 'process.exit(0)'] }));
    expect(container?.command).toEqual(['node', '-e', 'process.exit(0)']);
    expect(container?.image).toBe('ghcr.io/vtp/trainer-timm:1.0.0');
  });

  it('makes the Secret owned by the Job once the Job has a uid', () => {
    const { built } = build();
    expect(() => ownedByJob(built)).toThrow(/uid/);
    const uid = '7d1c9a3e-1111-4222-8333-444455556666';
    expect(ownedByJob({ ...built, metadata: { ...built.metadata, uid } })).toEqual({
      metadata: {
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: built.metadata?.name, uid }],
      },
    });
  });

  it('builds a weights check as the same hardened pod running check-weights, outside the training selector', () => {
    const settings = jobSettings();
    const request = {
      framework: 'timm' as const,
      model: 'test_resnet',
      url: 'http://storage.example/weights?X-Amz-Signature=abc',
      bytes: 10,
      sha256: 'a'.repeat(64),
    };
    const check = buildWeightsCheckJob(request, 'vtp-weights-1', settings, 120);
    expect(() => new Job(check as never).validate()).not.toThrow();
    const training = build().built;
    const checkPod = check.spec?.template.spec;
    const trainingPod = training.spec?.template.spec;
    const { command, env, resources, ...checkContainer } = checkPod?.containers[0] ?? { name: '' };
    const {
      command: _c,
      env: _e,
      resources: _r,
      ...trainingContainer
    } = trainingPod?.containers[0] ?? {
      name: '',
    };
    expect(checkContainer).toEqual(trainingContainer);
    expect({ ...checkPod, containers: [] }).toEqual({ ...trainingPod, containers: [] });
    expect(command).toEqual(['node', 'services/trainer-timm/src/main.ts', 'check-weights']);
    expect(JSON.parse(env?.find((e) => e.name === 'WEIGHTS_CHECK_JSON')?.value ?? '')).toEqual(request);
    expect(check.spec?.activeDeadlineSeconds).toBe(120 + settings.deadlineSlackSeconds);
    expect(check.spec?.backoffLimit).toBe(0);
    // The training watch and the start-up reconcile select by PLATFORM_SELECTOR: never this Job.
    const labels = check.metadata?.labels ?? {};
    const matchesPlatform = PLATFORM_SELECTOR.split(',').every((term) => {
      const [key, value] = term.split('=');
      return labels[key as string] === value;
    });
    expect(matchesPlatform).toBe(false);
  });
});
