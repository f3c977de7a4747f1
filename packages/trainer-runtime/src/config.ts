import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@vtp/service-kit';
import type { Framework } from '@vtp/shared-schemas';
import { z } from 'zod';

export type TrainerMode = 'serve' | 'run';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const milliseconds = (fallback: number) => z.coerce.number().int().min(10).default(fallback);

function trainerEnv(framework: Framework, defaultPort: number, mode: TrainerMode) {
  return z
    .object({
      // HTTP port of the trainer API (serve mode).
      // Address to listen on: loopback unless told otherwise (the container images set 0.0.0.0).
      HOST: z.string().min(1).default('127.0.0.1'),
      PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
      // Bearer token the backend sends on every /v1 call; required to serve, unused by a one-shot `run`.
      TRAINER_TOKEN: mode === 'serve' ? z.string().min(24, 'at least 24 characters') : z.string().optional(),
      // Scratch space: each job unpacks its dataset and writes checkpoints under WORK_DIR/jobs/<jobId>.
      WORK_DIR: z
        .string()
        .min(1)
        .default(join(tmpdir(), `vtp-trainer-${framework}`)),
      // Trainings at once; one more start is refused with 503 and Retry-After.
      MAX_CONCURRENT_TRAININGS: z.coerce.number().int().min(1).max(64).default(1),
      // How often a running training tells the backend it is alive.
      HEARTBEAT_INTERVAL_MS: milliseconds(5000),
      // Time a runner gets between SIGTERM and SIGKILL (cancel, time limit, shutdown).
      CANCEL_GRACE_MS: milliseconds(10_000),
      // A training phase (download, unpacking, runner start-up, an epoch, the final upload) without progress
      // this long is a stall: the training is stopped and fails as `stalled`. Epochs also get 5x the longest so far.
      // Also how long a transfer waits for the backend to give its presigned URL (the backend is away).
      STALL_TIMEOUT_SECONDS: z.coerce
        .number()
        .int()
        .min(1)
        .max(7 * 24 * 3600)
        .default(1800),
      // An artifact upload that sends nothing for this long is aborted and fails (the object store hangs).
      UPLOAD_IDLE_TIMEOUT_MS: milliseconds(120_000),
      // Callback events the backend has not taken yet survive restarts here; default WORK_DIR/outbox.
      OUTBOX_DIR: z.string().min(1).optional(),
      // `run` mode: how long to wait for the backend to take every event before leaving the rest in the outbox.
      CALLBACK_DRAIN_TIMEOUT_MS: milliseconds(60_000),
      // Checking an uploaded weights file (POST /v1/weights-checks): the whole check (download, Python start-up,
      // loading) is killed past this limit, and its Python process gets this much address space (RLIMIT_AS; torch
      // and the framework alone take about 1.5 GB of it).
      WEIGHTS_CHECK_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(180),
      WEIGHTS_CHECK_MAX_MEMORY_MB: z.coerce.number().int().min(512).max(1_048_576).default(8192),
      // Python interpreter for the runner; unset = the cached virtual environment of `npm run python:env`.
      VTP_PYTHON: z.string().min(1).optional(),
      // Serve mode: fork each training from a Python process that has already imported torch and the framework,
      // so it starts without Python's start-up (seconds of imports); false spawns a new interpreter for each.
      WARM_RUNNERS: flag.default(true),
      // Set by a backend that spawns this service: shut down when that parent is gone, so a backend killed
      // with SIGKILL leaves no trainer behind.
      EXIT_WITH_PARENT: flag.default(false),
    })
    .transform((env) => ({
      host: env.HOST,
      port: env.PORT,
      trainerToken: env.TRAINER_TOKEN,
      workDir: env.WORK_DIR,
      outboxDir: env.OUTBOX_DIR ?? join(env.WORK_DIR, 'outbox'),
      maxConcurrentTrainings: env.MAX_CONCURRENT_TRAININGS,
      heartbeatIntervalMs: env.HEARTBEAT_INTERVAL_MS,
      cancelGraceMs: env.CANCEL_GRACE_MS,
      uploadIdleTimeoutMs: env.UPLOAD_IDLE_TIMEOUT_MS,
      stallTimeoutMs: env.STALL_TIMEOUT_SECONDS * 1000,
      callbackDrainTimeoutMs: env.CALLBACK_DRAIN_TIMEOUT_MS,
      weightsCheck: {
        timeoutMs: env.WEIGHTS_CHECK_TIMEOUT_SECONDS * 1000,
        maxMemoryBytes: env.WEIGHTS_CHECK_MAX_MEMORY_MB * 2 ** 20,
        concurrency: 1,
      },
      python: env.VTP_PYTHON,
      warmRunners: env.WARM_RUNNERS,
      exitWithParent: env.EXIT_WITH_PARENT,
    }));
}

export type TrainerConfig = z.output<ReturnType<typeof trainerEnv>>;

/** Reads the trainer's settings from the environment once at start-up; names every bad variable at once. */
export function loadTrainerConfig(
  framework: Framework,
  defaultPort: number,
  mode: TrainerMode,
  env: NodeJS.ProcessEnv,
): TrainerConfig {
  return loadConfig(trainerEnv(framework, defaultPort, mode), env);
}
