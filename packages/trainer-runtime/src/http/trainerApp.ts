import { once } from 'node:events';
import {
  type HttpMetrics,
  InputError,
  type Logger,
  NotFoundError,
  notFoundHandler,
  parseInput,
  problemHandler,
  tracingMiddleware,
  UnavailableError,
} from '@vtp/service-kit';
import {
  type Health,
  LogsQuery,
  type TrainerModelsResponseBody,
  TrainingIdParams,
  WeightsCheckRequestBody,
} from '@vtp/shared-schemas';
import express, { type Express, type Request } from 'express';
import type { TrainerAdapter } from '../adapter.ts';
import type { Readiness } from '../readiness/readiness.ts';
import type { Training } from '../training/training.ts';
import { parseTrainingSpec } from '../training/trainingSpec.ts';
import type { Trainings } from '../training/trainings.ts';
import type { WeightsChecker } from '../weights/weightsCheck.ts';
import { requireTrainerToken } from './requireTrainerToken.ts';

export interface TrainerAppDeps {
  adapter: TrainerAdapter;
  trainings: Trainings;
  weightsChecker: WeightsChecker;
  readiness: Readiness;
  metrics: HttpMetrics;
  logger: Logger;
  trainerToken: string;
  maxConcurrentTrainings: number;
  /** Aborted when the service stops: followed logs end then, or they would hold the server open. */
  stopping: AbortSignal;
}

/** Seconds a start refused while the Python check runs (or failed) suggests waiting. */
const NOT_READY_RETRY_SECONDS = 10;

/** The trainer's HTTP API (packages/shared-schemas/openapi/trainer.json). */
export function createTrainerApp(deps: TrainerAppDeps): Express {
  const { adapter, trainings, readiness } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(tracingMiddleware);
  app.use(deps.metrics.middleware);
  app.use(express.json({ limit: '1mb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' } satisfies Health);
  });
  app.get('/readyz', (_req, res) => {
    const report = readiness.report(trainings.active(), deps.maxConcurrentTrainings);
    res.status(report.ready ? 200 : 503).json(report);
  });
  app.get('/metrics', deps.metrics.handler);

  const v1 = express.Router();
  v1.use(requireTrainerToken(deps.trainerToken));
  v1.get('/models', (_req, res) => {
    res.json({
      framework: adapter.framework,
      models: [...adapter.models],
    } satisfies TrainerModelsResponseBody);
  });
  v1.post('/trainings', (req, res) => {
    const spec = parseTrainingSpec(adapter, req.body);
    const existing = trainings.get(spec.request.jobId);
    // A repeated start of the same attempt is answered even while not ready; another attempt is a new training.
    if (existing?.attempt === spec.request.attempt) {
      res.status(200).json(existing.state());
      return;
    }
    if (!readiness.ready) {
      const { problem } = readiness.report(trainings.active(), deps.maxConcurrentTrainings);
      throw new UnavailableError(
        `This trainer is not ready: ${problem}`,
        NOT_READY_RETRY_SECONDS,
        'trainer_not_ready',
      );
    }
    const { training, created } = trainings.start(spec);
    res.status(created ? 202 : 200).json(training.state());
  });
  v1.post('/weights-checks', async (req, res) => {
    const request = parseInput(WeightsCheckRequestBody, req.body, 'body');
    if (request.framework !== adapter.framework) {
      throw new InputError(`This trainer checks ${adapter.framework} weights`, [
        { path: 'body.framework', message: `must be ${adapter.framework}` },
      ]);
    }
    if (!readiness.ready) {
      const { problem } = readiness.report(trainings.active(), deps.maxConcurrentTrainings);
      throw new UnavailableError(
        `This trainer is not ready: ${problem}`,
        NOT_READY_RETRY_SECONDS,
        'trainer_not_ready',
      );
    }
    res.json(await deps.weightsChecker.check(request));
  });
  const trainingOf = (req: Request): Training => {
    const { jobId } = parseInput(TrainingIdParams, req.params, 'path');
    const training = trainings.get(jobId);
    if (!training)
      throw new NotFoundError(`No training for job ${jobId} on this trainer`, 'training_not_found');
    return training;
  };
  v1.get('/trainings/:jobId', (req, res) => {
    res.json(trainingOf(req).state());
  });
  v1.get('/trainings/:jobId/logs', async (req, res) => {
    const training = trainingOf(req);
    const { follow } = parseInput(LogsQuery, req.query, 'query');
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    deps.stopping.addEventListener('abort', () => gone.abort(), { once: true, signal: gone.signal });
    res.status(200).type('text/plain; charset=utf-8');
    res.flushHeaders();
    for await (const chunk of training.logs(follow, gone.signal)) {
      if (!res.write(chunk)) await once(res, 'drain', { signal: gone.signal }).catch(() => undefined);
    }
    res.end();
  });
  v1.post('/trainings/:jobId/cancel', (req, res) => {
    const training = trainingOf(req);
    if (training.finished) {
      res.status(200).json(training.state());
      return;
    }
    training.stop('cancel');
    res.status(202).json(training.state());
  });
  app.use('/v1', v1);

  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
