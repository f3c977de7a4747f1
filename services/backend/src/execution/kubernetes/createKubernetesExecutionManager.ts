import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@vtp/service-kit';
import type { JobError } from '@vtp/shared-schemas';
import type { BackendConfig } from '../../config.ts';
import { KubernetesExecutionManager } from './kubernetesExecutionManager.ts';

/** The trainer stops itself at its time limit, with checkpoints; the cluster's deadline is the backstop. */
const DEADLINE_SLACK_SECONDS = 60;
/** Time for a trainer's last report to land after its pod ended, before the backend speaks for it. */
const OUTCOME_GRACE_MS = 15_000;

/**
 * KUBECONFIG (or ~/.kube/config) outside a cluster, the pod's service account inside one. The client would
 * otherwise fall back to http://localhost:8080 without a word.
 */
export function loadKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  if (kubeConfig.getCurrentContext() === 'loaded-context') {
    throw new Error(
      'EXECUTION_MODE=kubernetes needs a cluster: set KUBECONFIG, provide ~/.kube/config, or run the backend in a pod with a service account',
    );
  }
  return kubeConfig;
}

export interface KubernetesExecutionContext {
  config: BackendConfig;
  logger: Logger;
  onClusterFailure(training: { jobId: string; attempt: number }, error: JobError): void;
}

/** Builds the manager from the backend's configuration and starts its watch on the training namespace. */
export function createKubernetesExecutionManager(
  ctx: KubernetesExecutionContext,
): KubernetesExecutionManager {
  const { config, logger } = ctx;
  const images = { ultralytics: config.TRAINER_IMAGE_ULTRALYTICS, timm: config.TRAINER_IMAGE_TIMM };
  if (!images.ultralytics || !images.timm)
    throw new Error('TRAINER_IMAGE_ULTRALYTICS and TRAINER_IMAGE_TIMM are required in kubernetes mode');
  const manager = new KubernetesExecutionManager({
    kubeConfig: loadKubeConfig(),
    settings: {
      namespace: config.TRAINING_NAMESPACE,
      images: { ultralytics: images.ultralytics, timm: images.timm },
      ttlSecondsAfterFinished: config.JOB_TTL_SECONDS,
      deadlineSlackSeconds: DEADLINE_SLACK_SECONDS,
      gpuNodeSelector: config.GPU_NODE_SELECTOR,
      defaultResources: { cpu: config.DEFAULT_CPU, memory: config.DEFAULT_MEMORY },
      scratchSizeLimit: config.SCRATCH_SIZE_LIMIT,
      ...(config.TRAINER_OTLP_ENDPOINT ? { otlpEndpoint: config.TRAINER_OTLP_ENDPOINT } : {}),
    },
    weightsCheckTimeoutSeconds: config.WEIGHTS_CHECK_TIMEOUT_SECONDS,
    timing: {
      imagePullGraceMs: config.IMAGE_PULL_GRACE_SECONDS * 1000,
      unschedulableTimeoutMs: config.UNSCHEDULABLE_TIMEOUT_SECONDS * 1000,
      outcomeGraceMs: OUTCOME_GRACE_MS,
    },
    logger,
    onClusterFailure: ctx.onClusterFailure,
  });
  manager.watch().catch((err) => logger.error({ err }, 'could not start the kubernetes watch'));
  return manager;
}
