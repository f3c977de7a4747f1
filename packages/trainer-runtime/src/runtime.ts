import { join } from 'node:path';
import type { Logger } from '@vtp/service-kit';
import type { TrainerAdapter } from './adapter.ts';
import { CallbackDelivery, type RedeliveryOptions } from './callbacks/callbackDelivery.ts';
import {
  CallbackSender,
  DEFAULT_DELIVERY_POLICY,
  type DeliveryPolicyOptions,
} from './callbacks/deliveryPolicy.ts';
import { createHttpClient } from './callbacks/httpClient.ts';
import { Outbox } from './callbacks/outbox.ts';
import type { TrainerConfig } from './config.ts';
import { TrainerMetrics } from './observability/trainerMetrics.ts';
import { repoRoot, runnerHelperDir } from './paths.ts';
import { resolvePython } from './python-env/index.ts';
import { runnerEnvironment } from './runner/runnerEnvironment.ts';
import { coldRunners } from './runner/runnerProcess.ts';
import { RunnerZygote } from './runner/runnerZygote.ts';
import { Trainings } from './training/trainings.ts';
import { WeightsChecker } from './weights/weightsCheck.ts';

export interface TrainerRuntimeOptions {
  logger: Logger;
  /** Interpreter for the runners; default VTP_PYTHON, else the cached environment of `npm run python:env`. */
  python?: string;
  deliveryPolicy?: Partial<DeliveryPolicyOptions>;
  redelivery?: RedeliveryOptions;
  /** Fork runners from a warm zygote (the service starts and stops it); otherwise each runner is spawned cold. */
  warmRunners?: boolean;
}

/** What both entry points (`serve` and `run`) are made of. */
export interface TrainerRuntime {
  adapter: TrainerAdapter;
  config: TrainerConfig;
  logger: Logger;
  python: string | undefined;
  trainings: Trainings;
  delivery: CallbackDelivery;
  /** The warm zygote runners fork from, when warm runners are on and there is a Python environment. */
  zygote: RunnerZygote | undefined;
  metrics: TrainerMetrics;
  weightsChecker: WeightsChecker;
}

export function createTrainerRuntime(
  adapter: TrainerAdapter,
  config: TrainerConfig,
  options: TrainerRuntimeOptions,
): TrainerRuntime {
  const { logger } = options;
  const python = options.python ?? config.python ?? findCachedPython(logger);
  const metrics = new TrainerMetrics();
  const sender = new CallbackSender(
    createHttpClient(),
    { ...DEFAULT_DELIVERY_POLICY, ...options.deliveryPolicy },
    (outcome) => metrics.callbackRequest(outcome),
  );
  const delivery = new CallbackDelivery({
    sender,
    outbox: new Outbox(config.outboxDir),
    logger: logger.child({ component: 'callbacks' }),
    ...(options.redelivery ? { redelivery: options.redelivery } : {}),
  });
  const zygoteDir = join(config.workDir, 'zygote');
  const zygote =
    options.warmRunners && python
      ? new RunnerZygote({
          python,
          preload: adapter.runnerPreload,
          cwd: zygoteDir,
          env: runnerEnvironment(process.env, runnerHelperDir, adapter.pythonEnv(zygoteDir)),
          logger,
        })
      : undefined;
  const trainings = new Trainings(
    {
      adapter,
      metrics,
      delivery,
      sender,
      logger,
      python,
      runners: zygote ?? coldRunners,
      runnerHelperDir,
      workDir: config.workDir,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      cancelGraceMs: config.cancelGraceMs,
      uploadIdleTimeoutMs: config.uploadIdleTimeoutMs,
      stallTimeoutMs: config.stallTimeoutMs,
    },
    config.maxConcurrentTrainings,
  );
  const weightsChecker = new WeightsChecker({
    adapter,
    python,
    runnerHelperDir,
    workDir: config.workDir,
    limits: config.weightsCheck,
    logger: logger.child({ component: 'weights-check' }),
  });
  metrics.track({
    activeTrainings: () => trainings.active(),
    pendingEvents: () => delivery.pending(),
    oldestPendingEventAt: () => delivery.oldestPendingAt(),
    circuitStates: () => sender.circuitStates(),
  });
  return { adapter, config, logger, python, trainings, delivery, zygote, metrics, weightsChecker };
}

function findCachedPython(logger: Logger): string | undefined {
  try {
    return resolvePython(repoRoot);
  } catch (err) {
    logger.warn({ err }, 'cannot look for the cached Python environment');
    return undefined;
  }
}
