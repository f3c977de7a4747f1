import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHttpMetrics, Lifecycle, listen, type RunningServer } from '@vtp/service-kit';
import type { Express } from 'express';
import type { TrainerAdapter } from './adapter.ts';
import type { TrainerConfig } from './config.ts';
import { createTrainerApp } from './http/trainerApp.ts';
import { Readiness } from './readiness/readiness.ts';
import { createTrainerRuntime, type TrainerRuntime, type TrainerRuntimeOptions } from './runtime.ts';

export interface TrainerService extends TrainerRuntime {
  app: Express;
  readiness: Readiness;
  lifecycle: Lifecycle;
  /** Takes up the outbox a previous process left, starts the Python check, and listens. */
  start(): Promise<RunningServer>;
  /** Stops accepting, stops every runner (SIGTERM, then SIGKILL), and leaves undelivered events on disk. */
  stop(): Promise<void>;
}

/** The trainer HTTP service for one framework: the `serve` entry point. */
export function createTrainerService(
  adapter: TrainerAdapter,
  config: TrainerConfig,
  options: TrainerRuntimeOptions,
): TrainerService {
  const runtime = createTrainerRuntime(adapter, config, { warmRunners: config.warmRunners, ...options });
  const { trainings, delivery, logger, zygote } = runtime;
  if (!config.trainerToken) throw new Error('TRAINER_TOKEN is required to serve the trainer API');
  const readiness = new Readiness(adapter.framework, runtime.python);
  // The runtime's domain metrics and the HTTP ones share one registry: one /metrics.
  const metrics = createHttpMetrics('vtp_trainer', runtime.metrics.registry);
  const stopping = new AbortController();
  const app = createTrainerApp({
    stopping: stopping.signal,
    adapter,
    trainings,
    weightsChecker: runtime.weightsChecker,
    readiness,
    metrics,
    logger,
    trainerToken: config.trainerToken,
    maxConcurrentTrainings: config.maxConcurrentTrainings,
  });
  const lifecycle = new Lifecycle(logger);

  return {
    ...runtime,
    app,
    readiness,
    lifecycle,
    async start() {
      // Hooks run in reverse: stop accepting, then stop runners (their last events queue up), then save events.
      lifecycle.addShutdownHook('callback outbox', () => delivery.close());
      if (zygote) lifecycle.addShutdownHook('warm runners', () => zygote.stop());
      lifecycle.addShutdownHook('trainings', () => trainings.shutdown(config.cancelGraceMs + 30_000));
      const waiting = await delivery.recover();
      if (waiting)
        logger.info({ events: waiting }, 'redelivering callback events left by a previous process');
      const probeDir = join(config.workDir, 'probe');
      await mkdir(probeDir, { recursive: true });
      void readiness
        .check(adapter.frameworkModule, probeDir, { ...process.env, ...adapter.pythonEnv(probeDir) })
        .then(async (probe) => {
          if (probe.problem) {
            logger.error({ problem: probe.problem, fix: 'npm run python:env' }, 'trainer not ready');
            return;
          }
          logger.info(
            { python: probe.pythonVersion, torch: probe.torchVersion, framework: probe.frameworkVersion },
            'trainer ready',
          );
          // After the probe, not beside it: both import torch, and on a small machine they would slow each other.
          if (zygote && !stopping.signal.aborted) await zygote.start();
        })
        .catch((err) => logger.error({ err }, 'cannot start the warm zygote'));
      const server = await listen(app, config.port, config.host);
      lifecycle.addShutdownHook('http server', async () => {
        stopping.abort();
        // Followed logs end now; their keep-alive connections only turn idle after close() began.
        const sweep = setInterval(() => server.server.closeIdleConnections(), 50);
        await server.close();
        clearInterval(sweep);
      });
      logger.info({ url: server.url, framework: adapter.framework }, 'trainer listening');
      return server;
    },
    stop: () => lifecycle.shutdown(),
  };
}
