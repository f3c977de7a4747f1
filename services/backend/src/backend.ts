import { resolve } from 'node:path';
import { createHttpMetrics, Lifecycle, type Logger, listen } from '@vtp/service-kit';
import type { S3Settings } from '@vtp/service-kit/s3';
import { createS3Client, ensureBucket, parseS3Uri, startEmbeddedS3 } from '@vtp/service-kit/s3';
import { consoleAssetsDir } from '@vtp/web-console';
import { generateSecret } from './auth/secrets.ts';
import { UserStore } from './auth/userStore.ts';
import type { BackendConfig } from './config.ts';
import { DEFAULT_ARCHIVE_LIMITS } from './datasets/archive/index.ts';
import { DatasetService } from './datasets/datasetService.ts';
import { DatasetStore } from './datasets/datasetStore.ts';
import { createDatabase, migrateLatest } from './db/database.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { JobMonitor } from './dispatch/jobMonitor.ts';
import { loadOrCreateAdminKey } from './embedded/adminKey.ts';
import { startEmbeddedPostgres } from './embedded/postgres.ts';
import { loadOrCreateS3Credentials } from './embedded/s3Credentials.ts';
import { createExecutionManager } from './execution/createExecutionManager.ts';
import { createApp } from './http/app.ts';
import { EventIngest } from './jobs/eventIngest.ts';
import { JobEventNotifier } from './jobs/eventNotifier.ts';
import { InitialWeightsSource } from './jobs/initialWeights.ts';
import { JobArtifacts } from './jobs/jobArtifacts.ts';
import { JobEventStore } from './jobs/jobEventStore.ts';
import { PLACED } from './jobs/jobLifecycle.ts';
import { JobLogs } from './jobs/jobLogs.ts';
import { JobService } from './jobs/jobService.ts';
import { JobStore } from './jobs/jobStore.ts';
import { StoredOutputs } from './jobs/storedOutputs.ts';
import { StreamSlots } from './jobs/streamSlots.ts';
import { TrainerStorage } from './jobs/trainerStorage.ts';
import { JobMetrics } from './observability/jobMetrics.ts';
import { ObjectStore } from './storage/objectStore.ts';
import { WeightsService } from './weights/weightsService.ts';
import { WeightsStore } from './weights/weightsStore.ts';

/** Trainers reach the same object store as the backend, with the same settings. */
export interface RunningBackend {
  url: string;
  port: number;
  adminKey: string;
  lifecycle: Lifecycle;
  stop(): Promise<void>;
}

/**
 * Composition root: config -> embedded servers (when nothing external is configured) -> clients -> services
 * -> HTTP. Shutdown hooks run in reverse: HTTP stops accepting first, the database goes last.
 */
export async function startBackend(config: BackendConfig, logger: Logger): Promise<RunningBackend> {
  const lifecycle = new Lifecycle(logger);
  try {
    const dataDir = resolve(config.DATA_DIR);

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const embedded = await startEmbeddedPostgres(dataDir, logger);
      lifecycle.addShutdownHook('embedded-postgres', () => embedded.stop());
      databaseUrl = embedded.url;
    }
    const db = createDatabase(databaseUrl);
    lifecycle.addShutdownHook('database-pool', () => db.destroy());
    const applied = await migrateLatest(db);
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');

    let s3Settings: S3Settings = {
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      accessKeyId: config.AWS_ACCESS_KEY_ID,
      secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
    };
    if (!config.S3_ENDPOINT && !config.AWS_ACCESS_KEY_ID) {
      const { credentials, file } = await loadOrCreateS3Credentials(dataDir);
      const embedded = await startEmbeddedS3(resolve(dataDir, 's3'), {
        port: config.EMBEDDED_S3_PORT,
        credentials,
      });
      lifecycle.addShutdownHook('embedded-s3', () => embedded.stop());
      s3Settings = { ...s3Settings, ...embedded, forcePathStyle: true };
      logger.info(
        { endpoint: embedded.endpoint, credentialsFile: file },
        'embedded S3-compatible server started (no S3_ENDPOINT set)',
      );
    }
    const s3 = createS3Client({ ...s3Settings, logger: logger.child({ component: 's3-client' }) });
    lifecycle.addShutdownHook('s3-client', () => s3.destroy());
    if ((await ensureBucket(s3, config.BUCKET_NAME)) === 'created')
      logger.info({ bucket: config.BUCKET_NAME }, 'created bucket');
    const objects = new ObjectStore(s3, config.BUCKET_NAME);

    const users = new UserStore(db);
    let adminKey = config.ADMIN_API_KEY;
    if (!adminKey) {
      const generated = await loadOrCreateAdminKey(dataDir);
      adminKey = generated.key;
      logger.info(
        { file: resolve(dataDir, 'admin-api-key') },
        generated.created ? 'generated an admin API key' : 'using the admin API key kept in DATA_DIR',
      );
    }
    await users.ensureAdminKey(adminKey);

    const notifier = new JobEventNotifier(databaseUrl, logger);
    await notifier.start();
    lifecycle.addShutdownHook('event-notifier', () => notifier.stop());

    const datasetStore = new DatasetStore(db);
    const jobEvents = new JobEventStore(db);
    const metrics = createHttpMetrics('vtp_backend');
    const jobMetrics = new JobMetrics(metrics.registry);
    const jobStore = new JobStore(db, jobEvents, jobMetrics);
    jobMetrics.trackJobCounts(
      metrics.registry,
      () => jobStore.countByStatus(),
      (err) => logger.warn({ err }, 'could not count jobs for /metrics'),
    );
    const datasets = new DatasetService(datasetStore, jobStore, objects, logger, {
      maxUploadBytes: config.MAX_UPLOAD_BYTES,
      maxDatasetsPerUser: config.MAX_DATASETS_PER_USER,
      archiveLimits: DEFAULT_ARCHIVE_LIMITS,
    });
    void datasets.sweepOrphans().catch((err) => logger.warn({ err }, 'orphan sweep failed'));
    // Declared before the manager: cluster reports can arrive while it reconciles.
    let dispatcher: Dispatcher | undefined;
    const manager = createExecutionManager({
      config,
      logger,
      trainerToken: config.TRAINER_TOKEN ?? generateSecret('vtptr'),
      onTrainerLost: (framework, instance, reason) => {
        void jobStore
          .failActiveAt('instance', instance, {
            code: 'trainer_unavailable',
            message: `The ${framework} trainer service ${reason} during the training`,
          })
          .then(
            (ids) => ids.length && logger.warn({ framework, jobs: ids }, 'jobs failed with their trainer'),
          )
          .catch((err) => logger.error({ err }, 'could not fail the jobs of a dead trainer'));
      },
      onClusterFailure: ({ jobId, attempt }, error) => {
        void jobStore
          .fail(jobId, PLACED, error, undefined, attempt)
          .then((failed) => {
            if (!failed) return;
            logger.warn({ job_id: jobId, error }, 'the cluster ended a training');
            dispatcher?.nudge();
          })
          .catch((err) => logger.error({ err, job_id: jobId }, 'could not fail a job the cluster ended'));
      },
    });
    lifecycle.addShutdownHook('execution-manager', () => manager.stop());
    if (config.RUN_DISPATCHER && manager.reconcile) {
      const outcome = await manager.reconcile(() => jobStore.listActive());
      logger.info({ outcome }, 'reconciled trainings with the executor');
    }
    const weightsStore = new WeightsStore(db);
    const weights = new WeightsService({
      store: weightsStore,
      jobs: jobStore,
      objects,
      checker: manager,
      logger,
      options: {
        maxUploadBytes: config.MAX_WEIGHTS_UPLOAD_BYTES,
        maxWeightsPerUser: config.MAX_WEIGHTS_PER_USER,
        checkUrlTtlSeconds: config.STORAGE_URL_TTL_SECONDS,
      },
    });
    void weights.sweepOrphans().catch((err) => logger.warn({ err }, 'orphan sweep failed'));
    const initialWeights = new InitialWeightsSource({ jobs: jobStore, weights: weightsStore, objects });
    const jobs = new JobService(
      jobStore,
      datasetStore,
      weightsStore,
      manager,
      { cpu: config.MAX_JOB_CPU, memory: config.MAX_JOB_MEMORY, gpu: config.MAX_JOB_GPUS },
      config.MAX_QUEUED_JOBS_PER_USER,
      config.MLFLOW_TRACKING_URI
        ? { trackingUri: config.MLFLOW_TRACKING_URI, defaultExperiment: config.MLFLOW_EXPERIMENT_NAME }
        : undefined,
      () => dispatcher?.nudge(),
    );
    const ingest = new EventIngest(jobStore, jobEvents, config.BUCKET_NAME, jobMetrics, {
      onJobEnded: () => dispatcher?.nudge(),
      // Checkpoint snapshots no artifact refers to any more: storage keeps the current ones only.
      onUnreferenced: (uris) => {
        for (const uri of uris) {
          void objects
            .delete(parseS3Uri(uri).key)
            .catch((err) => logger.warn({ err, uri }, 'could not delete a superseded checkpoint'));
        }
      },
    });

    const stopping = new AbortController();
    const logs = new JobLogs(jobStore, objects, manager);
    const app = createApp({
      logger,
      db,
      objects,
      metrics,
      jobMetrics,
      users,
      datasets,
      weights,
      jobs,
      eventSources: { jobs: jobStore, events: jobEvents },
      logs,
      artifacts: new JobArtifacts(jobStore, objects),
      consoleDir: consoleAssetsDir,
      ingest,
      trainerStorage: new TrainerStorage({
        jobs: jobStore,
        datasets: datasetStore,
        initialWeights,
        objects,
        ttlSeconds: config.STORAGE_URL_TTL_SECONDS,
      }),
      notifier,
      stopping: stopping.signal,
      streams: new StreamSlots(config.MAX_STREAMS_PER_USER),
    });
    const server = await listen(app, config.PORT, config.HOST, config.REQUEST_IDLE_TIMEOUT_SECONDS * 1000);
    lifecycle.addShutdownHook('http-server', () => server.close());

    dispatcher = new Dispatcher(
      {
        jobs: jobStore,
        events: jobEvents,
        datasets: datasetStore,
        initialWeights,
        manager,
        metrics: jobMetrics,
        logger,
      },
      {
        limits: { perFramework: config.MAX_JOBS_PER_FRAMEWORK, perUser: config.MAX_JOBS_PER_USER },
        backendBaseUrl: config.BACKEND_BASE_URL ?? server.url,
        bucket: config.BUCKET_NAME,
        pollIntervalMs: 1000,
        maxHandovers: config.MAX_DISPATCH_ATTEMPTS,
      },
    );
    const started = dispatcher;
    lifecycle.addShutdownHook('dispatcher', () => started.stop());
    const monitor = new JobMonitor(
      {
        jobs: jobStore,
        manager,
        outputs: new StoredOutputs(objects),
        metrics: jobMetrics,
        logger,
        onChange: () => started.nudge(),
      },
      {
        intervalMs: config.MONITOR_INTERVAL_MS,
        dispatchTimeoutMs: config.DISPATCH_TIMEOUT_SECONDS * 1000,
        heartbeatTimeoutMs: config.HEARTBEAT_TIMEOUT_SECONDS * 1000,
        maxHandovers: config.MAX_DISPATCH_ATTEMPTS,
        deadlineGraceMs: 60_000,
        outcomeGraceMs: config.OUTCOME_GRACE_SECONDS * 1000,
      },
    );
    if (config.RUN_DISPATCHER) {
      started.start();
      monitor.start();
    }
    lifecycle.addShutdownHook('job-monitor', () => monitor.stop());
    // Registered last, so it runs first: event and log streams end before the HTTP server waits for requests.
    lifecycle.addShutdownHook('end-streams', () => stopping.abort());
    logger.info({ url: server.url, executionMode: config.EXECUTION_MODE }, 'backend listening');
    return { url: server.url, port: server.port, adminKey, lifecycle, stop: () => lifecycle.shutdown() };
  } catch (err) {
    await lifecycle.shutdown();
    throw err;
  }
}
