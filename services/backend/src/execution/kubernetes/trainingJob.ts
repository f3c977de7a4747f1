import { createHash } from 'node:crypto';
import type {
  V1Container,
  V1EnvVar,
  V1Job,
  V1OwnerReference,
  V1PodSpec,
  V1ResourceRequirements,
  V1Secret,
} from '@kubernetes/client-node';
import type {
  Framework,
  Resources,
  TrainingStartRequestBody,
  WeightsCheckRequestBody,
} from '@vtp/shared-schemas';
import type { PlacedJob } from '../executionManager.ts';

/** Everything about a training Job that comes from configuration rather than from the job. */
export interface TrainingJobSettings {
  namespace: string;
  images: Record<Framework, string>;
  ttlSecondsAfterFinished: number;
  /** Where the trainer exports its spans (OTLP/HTTP); without it the pod exports none. */
  otlpEndpoint?: string;
  /** Slack past maxDurationSeconds before the cluster kills the pod: the trainer stops itself first, with checkpoints. */
  deadlineSlackSeconds: number;
  gpuNodeSelector: Record<string, string>;
  defaultResources: { cpu: string; memory: string };
  /** Size limit of the scratch volume (dataset, checkpoints): past it the kubelet evicts the pod. */
  scratchSizeLimit: string;
  /** Replaces the trainer's `run` command (tests run small scripts in the very same pod shape). */
  command?: ((spec: TrainingStartRequestBody) => string[]) | undefined;
}

export const CONTAINER_NAME = 'trainer';
export const CALLBACK_TOKEN_KEY = 'token';
export const JOB_ID_LABEL = 'vtp.dev/job-id';
/** Each attempt of a job runs as its own Job (a retry never adopts the Job of the attempt that failed). */
export const ATTEMPT_LABEL = 'vtp.dev/attempt';
export const TRACEPARENT_ANNOTATION = 'vtp.dev/traceparent';
export const TRACESTATE_ANNOTATION = 'vtp.dev/tracestate';
/** Selects every object this backend creates in the training namespace. */
export const PLATFORM_SELECTOR = 'app.kubernetes.io/part-of=vtp,app.kubernetes.io/managed-by=vtp-backend';

const RUN_AS = 10001;
/** Python, torch and the frameworks' temporary files. */
const TMP_SIZE_LIMIT = '2Gi';
/** Shared memory of dataloader workers (counted against the pod's memory). */
const SHM_SIZE_LIMIT = '1Gi';
const WORK_DIR = '/work';

/**
 * A DNS-1123 name that is stable for a job id (so a repeated start finds the same Job) and short enough that the
 * pod names the Job controller derives from it stay within 63 characters.
 */
export function trainingJobName(jobId: string, attempt = 1): string {
  const readable = jobId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 8);
  const hash = createHash('sha256')
    .update(attempt === 1 ? jobId : `${jobId}#${attempt}`)
    .digest('hex')
    .slice(0, 10);
  return `vtp-train-${readable}-${hash}`;
}

export function callbackSecretName(jobName: string): string {
  return `${jobName}-callback`;
}

function platformLabels(spec: TrainingStartRequestBody): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'vtp-trainer',
    'app.kubernetes.io/component': 'training',
    'app.kubernetes.io/part-of': 'vtp',
    'app.kubernetes.io/managed-by': 'vtp-backend',
    [JOB_ID_LABEL]: spec.jobId,
    [ATTEMPT_LABEL]: String(spec.attempt),
    'vtp.dev/framework': spec.framework,
  };
}

/** The trainer's whole spec minus the callback token, which travels in its own Secret. */
function specWithoutToken(spec: TrainingStartRequestBody): Omit<TrainingStartRequestBody, 'callback'> & {
  callback: Omit<TrainingStartRequestBody['callback'], 'token'>;
} {
  const { token: _token, ...callback } = spec.callback;
  return { ...spec, callback };
}

function resourceRequirements(
  resources: Resources | null,
  settings: TrainingJobSettings,
): V1ResourceRequirements {
  const cpu = resources?.cpu ?? settings.defaultResources.cpu;
  const memory = resources?.memory ?? settings.defaultResources.memory;
  const gpu = resources?.gpu ?? 0;
  // Requests equal limits: the pod is Guaranteed and is the last to be evicted under node pressure.
  return {
    requests: { cpu, memory },
    limits: { cpu, memory, ...(gpu > 0 ? { 'nvidia.com/gpu': String(gpu) } : {}) },
  };
}

function secretEnv(name: string, secret: string, key: string): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/** No storage settings or credentials: the trainer reaches objects only through its job's presigned URLs. */
function trainerEnv(
  spec: TrainingStartRequestBody,
  jobName: string,
  settings: TrainingJobSettings,
): V1EnvVar[] {
  return [
    { name: 'TRAINING_SPEC_JSON', value: JSON.stringify(specWithoutToken(spec)) },
    secretEnv('CALLBACK_TOKEN', callbackSecretName(jobName), CALLBACK_TOKEN_KEY),
    { name: 'WORK_DIR', value: WORK_DIR },
    // The root filesystem is read-only: libraries keep their settings and caches under HOME.
    { name: 'HOME', value: '/tmp' },
    ...(settings.otlpEndpoint ? [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: settings.otlpEndpoint }] : []),
  ];
}

/** One batch/v1 Job per training: one hardened pod, never restarted, gone `ttlSecondsAfterFinished` after it ends. */
export function buildTrainingJob(
  spec: TrainingStartRequestBody,
  job: PlacedJob,
  settings: TrainingJobSettings,
): V1Job {
  const name = trainingJobName(spec.jobId, spec.attempt);
  const labels = platformLabels(spec);
  const resources = resourceRequirements(job.resources, settings);
  const wantsGpu = Boolean(resources.limits?.['nvidia.com/gpu']);
  const annotations = spec.traceContext
    ? {
        [TRACEPARENT_ANNOTATION]: spec.traceContext.traceparent,
        ...(spec.traceContext.tracestate ? { [TRACESTATE_ANNOTATION]: spec.traceContext.tracestate } : {}),
      }
    : undefined;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: settings.namespace, labels, ...(annotations ? { annotations } : {}) },
    spec: {
      // The trainer reports its own failures; a second attempt would run the same training again.
      backoffLimit: 0,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      ...(spec.maxDurationSeconds
        ? { activeDeadlineSeconds: spec.maxDurationSeconds + settings.deadlineSlackSeconds }
        : {}),
      template: {
        metadata: { labels },
        spec: {
          ...hardenedPod(
            {
              image: settings.images[spec.framework],
              command: settings.command?.(spec) ?? [
                'node',
                `services/trainer-${spec.framework}/src/main.ts`,
                'run',
              ],
              env: trainerEnv(spec, name, settings),
              resources,
            },
            settings,
          ),
          ...(wantsGpu
            ? {
                nodeSelector: settings.gpuNodeSelector,
                tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
              }
            : {}),
        },
      },
    },
  };
}

/** The one pod shape of every platform Job: non-root, read-only root, no token, every volume bounded. */
function hardenedPod(
  container: Required<Pick<V1Container, 'image' | 'command' | 'env' | 'resources'>>,
  settings: Pick<TrainingJobSettings, 'scratchSizeLimit'>,
): V1PodSpec {
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS,
      runAsGroup: RUN_AS,
      fsGroup: RUN_AS,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: CONTAINER_NAME,
        imagePullPolicy: 'IfNotPresent',
        workingDir: '/app',
        ...container,
        // A crash's last lines become the container's termination message, which the backend reports.
        terminationMessagePolicy: 'FallbackToLogsOnError',
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        },
        volumeMounts: [
          { name: 'work', mountPath: WORK_DIR },
          { name: 'tmp', mountPath: '/tmp' },
          // PyTorch data-loader workers share batches through /dev/shm; the runtime's default is 64 MiB.
          { name: 'shm', mountPath: '/dev/shm' },
        ],
      },
    ],
    volumes: [
      // Every volume is bounded: one training cannot fill its node's disk or memory.
      { name: 'work', emptyDir: { sizeLimit: settings.scratchSizeLimit } },
      { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE_LIMIT } },
      { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: SHM_SIZE_LIMIT } },
    ],
  };
}

/**
 * Labels of weights-check Jobs: not the platform's training selector (PLATFORM_SELECTOR), so the training watch
 * and the start-up reconcile never take one for a training.
 */
export const WEIGHTS_CHECK_SELECTOR =
  'app.kubernetes.io/part-of=vtp,app.kubernetes.io/component=weights-check';

/**
 * A short Job of the framework's trainer image that checks one uploaded weights file (`check-weights`) and prints
 * its verdict as the last line of its log. The presigned URL it reads through reaches that one object, for a short
 * while; the pod gets no other credential.
 */
export function buildWeightsCheckJob(
  request: WeightsCheckRequestBody,
  name: string,
  settings: TrainingJobSettings,
  timeoutSeconds: number,
): V1Job {
  const labels = {
    'app.kubernetes.io/name': 'vtp-trainer',
    'app.kubernetes.io/component': 'weights-check',
    'app.kubernetes.io/part-of': 'vtp',
    'app.kubernetes.io/managed-by': 'vtp-backend-weights-check',
    'vtp.dev/framework': request.framework,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: settings.namespace, labels },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      activeDeadlineSeconds: timeoutSeconds + settings.deadlineSlackSeconds,
      template: {
        metadata: { labels },
        spec: hardenedPod(
          {
            image: settings.images[request.framework],
            command: ['node', `services/trainer-${request.framework}/src/main.ts`, 'check-weights'],
            env: [
              { name: 'WEIGHTS_CHECK_JSON', value: JSON.stringify(request) },
              { name: 'WEIGHTS_CHECK_TIMEOUT_SECONDS', value: String(timeoutSeconds) },
              { name: 'WORK_DIR', value: WORK_DIR },
              { name: 'HOME', value: '/tmp' },
              { name: 'LOG_LEVEL', value: 'warn' },
            ],
            resources: {
              requests: settings.defaultResources,
              limits: settings.defaultResources,
            },
          },
          settings,
        ),
      },
    },
  };
}

/** The job's callback token, the only secret a training gets from the backend. */
export function buildCallbackSecret(
  jobName: string,
  spec: TrainingStartRequestBody,
  settings: Pick<TrainingJobSettings, 'namespace'>,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: callbackSecretName(jobName),
      namespace: settings.namespace,
      labels: platformLabels(spec),
    },
    type: 'Opaque',
    data: { [CALLBACK_TOKEN_KEY]: Buffer.from(spec.callback.token).toString('base64') },
  };
}

/**
 * The Secret is created before its Job (so the pod never starts without its token) and owned by the Job
 * afterwards, through this patch: the cluster then deletes it together with the Job.
 */
export function ownedByJob(job: V1Job): { metadata: { ownerReferences: V1OwnerReference[] } } {
  const { name, uid } = job.metadata ?? {};
  if (!name || !uid) throw new Error('a Job without name or uid cannot own anything');
  return { metadata: { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid }] } };
}

/** The attempt a platform Job runs, from its label (Jobs created before attempts existed ran the first). */
export function attemptOf(job: V1Job): number {
  return Number(job.metadata?.labels?.[ATTEMPT_LABEL] ?? 1) || 1;
}
