import { resolve } from 'node:path';
import type { Logger } from '@vtp/service-kit';
import { Framework, type JobError } from '@vtp/shared-schemas';
import type { BackendConfig } from '../config.ts';
import type { ExecutionManager } from './executionManager.ts';
import { createKubernetesExecutionManager } from './kubernetes/createKubernetesExecutionManager.ts';
import { LocalExecutionManager, type TrainerEndpoint } from './local/localExecutionManager.ts';
import { TrainerProcess } from './local/trainerProcess.ts';
import { TrainerClient } from './trainerClient.ts';

const repoRoot = resolve(import.meta.dirname, '../../../..');

export interface ExecutionContext {
  config: BackendConfig;
  logger: Logger;
  trainerToken: string;
  /** A trainer service died: its in-flight jobs cannot finish. */
  onTrainerLost(framework: Framework, instance: string, reason: string): void;
  /** Kubernetes mode: the cluster ended a training its trainer could not report on (OOM, image, deadline...). */
  onClusterFailure?(training: { jobId: string; attempt: number }, error: JobError): void;
}

/** Picks the executor once, from EXECUTION_MODE; nothing else in the backend knows which one runs. */
export function createExecutionManager(ctx: ExecutionContext): ExecutionManager {
  const { config, logger } = ctx;
  if (config.EXECUTION_MODE === 'kubernetes') {
    const { onClusterFailure } = ctx;
    if (!onClusterFailure)
      throw new Error('kubernetes mode needs onClusterFailure to fail jobs the cluster ended');
    return createKubernetesExecutionManager({ config, logger, onClusterFailure });
  }
  const client = new TrainerClient(ctx.trainerToken);
  const endpoints = Object.fromEntries(
    Framework.options.map((framework): [Framework, TrainerEndpoint] => {
      const url = config.TRAINER_URLS[framework];
      if (url) return [framework, { kind: 'url', url }];
      const process = new TrainerProcess({
        framework,
        entry: resolve(repoRoot, 'services', `trainer-${framework}`, 'src', 'main.ts'),
        env: {
          ...pick(globalThis.process.env, [
            'PATH',
            'HOME',
            'LANG',
            'TMPDIR',
            'VTP_PYTHON_ENV_CACHE',
            // Trainers export their spans where the backend does, so a job's trace holds both.
            ...OTLP_EXPORT_SETTINGS,
          ]),
          TRAINER_TOKEN: ctx.trainerToken,
          EXIT_WITH_PARENT: 'true',
          MAX_CONCURRENT_TRAININGS: String(config.MAX_JOBS_PER_FRAMEWORK),
          WORK_DIR: resolve(config.DATA_DIR, 'trainers', framework),
          LOG_LEVEL: config.LOG_LEVEL,
          WEIGHTS_CHECK_TIMEOUT_SECONDS: String(config.WEIGHTS_CHECK_TIMEOUT_SECONDS),
          ...(config.VTP_PYTHON ? { VTP_PYTHON: config.VTP_PYTHON } : {}),
        },
        logFile: resolve(config.DATA_DIR, 'logs', `trainer-${framework}.log`),
        logger,
        isHealthy: (u) => client.healthy(u),
        onExit: (instance, reason) => ctx.onTrainerLost(framework, instance, reason),
      });
      return [framework, { kind: 'process', process }];
    }),
  ) as Record<Framework, TrainerEndpoint>;
  // The trainer's own limit covers the check; the slack covers its queueing and answer.
  const weightsCheckTimeoutMs = (config.WEIGHTS_CHECK_TIMEOUT_SECONDS + 30) * 1000;
  return new LocalExecutionManager(endpoints, client, logger, weightsCheckTimeoutMs);
}

/** The OpenTelemetry SDK's own variables for where and how spans are exported (OTEL_SERVICE_NAME stays each service's). */
const OTLP_EXPORT_SETTINGS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_RESOURCE_ATTRIBUTES',
];

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((n) => (env[n] ? [[n, env[n] as string]] : [])));
}
