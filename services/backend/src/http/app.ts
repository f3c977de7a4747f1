import {
  type HttpMetrics,
  type Logger,
  notFoundHandler,
  problemHandler,
  tracingMiddleware,
} from '@vtp/service-kit';
import express, { type Express } from 'express';
import { requireApiKey } from '../auth/requireApiKey.ts';
import type { UserStore } from '../auth/userStore.ts';
import type { DatasetService } from '../datasets/datasetService.ts';
import type { Db } from '../db/database.ts';
import type { EventIngest } from '../jobs/eventIngest.ts';
import type { JobEventNotifier } from '../jobs/eventNotifier.ts';
import type { JobArtifacts } from '../jobs/jobArtifacts.ts';
import type { JobEventStore } from '../jobs/jobEventStore.ts';
import type { JobLogs } from '../jobs/jobLogs.ts';
import type { JobService } from '../jobs/jobService.ts';
import type { JobStore } from '../jobs/jobStore.ts';
import type { StreamSlots } from '../jobs/streamSlots.ts';
import type { TrainerStorage } from '../jobs/trainerStorage.ts';
import type { JobMetrics } from '../observability/jobMetrics.ts';
import type { ObjectStore } from '../storage/objectStore.ts';
import type { WeightsService } from '../weights/weightsService.ts';
import { databaseErrors } from './databaseErrors.ts';
import { apiKeyRoutes } from './routes/apiKeys.ts';
import { callbackRoutes } from './routes/callbacks.ts';
import { datasetRoutes } from './routes/datasets.ts';
import { jobRoutes } from './routes/jobs.ts';
import { systemRoutes } from './routes/system.ts';
import { weightsRoutes } from './routes/weights.ts';
import { webConsole } from './webConsole.ts';

export interface AppDeps {
  logger: Logger;
  db: Db;
  objects: ObjectStore;
  metrics: HttpMetrics;
  jobMetrics: JobMetrics;
  users: UserStore;
  datasets: DatasetService;
  weights: WeightsService;
  jobs: JobService;
  /** What event listings and streams read. */
  eventSources: { jobs: JobStore; events: JobEventStore };
  logs: JobLogs;
  artifacts: JobArtifacts;
  /** The built web console (index.html, assets/), served at `/`. */
  consoleDir: string;
  ingest: EventIngest;
  trainerStorage: TrainerStorage;
  notifier: JobEventNotifier;
  /** Aborted when the backend starts to stop: long-lived streams end so the HTTP server can close. */
  stopping: AbortSignal;
  streams: StreamSlots;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(tracingMiddleware);
  app.use(deps.metrics.middleware);
  app.use(express.json({ limit: '1mb' }));
  app.use(systemRoutes(deps.db, deps.objects, deps.metrics, deps.logger));
  app.use(webConsole(deps.consoleDir, deps.logger));
  // Trainer calls carry their job's own token; everything else under /v1 needs an API key.
  app.use(callbackRoutes(deps.ingest, deps.trainerStorage, deps.jobMetrics));
  app.use('/v1', requireApiKey(deps.users));
  app.use(apiKeyRoutes(deps.users));
  app.use(datasetRoutes(deps.datasets));
  app.use(weightsRoutes(deps.weights));
  app.use(
    jobRoutes(
      deps.jobs,
      deps.logs,
      deps.artifacts,
      deps.eventSources,
      deps.notifier,
      deps.stopping,
      deps.streams,
    ),
  );
  app.use(notFoundHandler);
  app.use(databaseErrors);
  app.use(problemHandler(deps.logger));
  return app;
}
