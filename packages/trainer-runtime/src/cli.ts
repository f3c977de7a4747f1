// Evaluated first, before the modules that take seconds to load: the pid of the parent (see startedBy.ts).
import '@vtp/service-kit/startedBy';
import { readFile } from 'node:fs/promises';
import { ConfigError, createLogger, InputError, parseInput, startTelemetry } from '@vtp/service-kit';
import { startedBy } from '@vtp/service-kit/startedBy';
import { WeightsCheckRequestBody } from '@vtp/shared-schemas';
import type { TrainerAdapter } from './adapter.ts';
import { loadTrainerConfig } from './config.ts';
import { repoRoot, runnerHelperDir } from './paths.ts';
import { resolvePython } from './python-env/index.ts';
import { createTrainerRuntime } from './runtime.ts';
import { createTrainerService } from './service.ts';
import { parseTrainingSpec } from './training/trainingSpec.ts';
import { WeightsChecker } from './weights/weightsCheck.ts';

/** Exit codes of `run`, what a Kubernetes Job reports. */
export const RUN_EXIT_CODES = { succeeded: 0, failed: 1, cancelled: 130, usage: 2 } as const;

const USAGE = `Usage:
  main.ts serve                 the trainer HTTP API (PORT, TRAINER_TOKEN, ...)
  main.ts run [--spec <file>]   one training from <file> or TRAINING_SPEC_JSON; exit 0 succeeded, 1 failed, 130 cancelled
  main.ts check-weights         checks the weights file WEIGHTS_CHECK_JSON names; prints the verdict as one JSON line
`;

/**
 * The trainer services' one entry point. `serve` resolves once listening (the process then lives until a signal);
 * `run` resolves with the exit code once its training has ended and its events are delivered or saved.
 */
export async function runTrainerCli(
  adapter: TrainerAdapter,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') return await serve(adapter, env);
    if (command === 'run') return await runOnce(adapter, rest, env);
    if (command === 'check-weights') return await checkWeightsOnce(adapter, env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof InputError || err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return RUN_EXIT_CODES.usage;
    }
    throw err;
  }
  process.stderr.write(USAGE);
  return RUN_EXIT_CODES.usage;
}

class UsageError extends Error {}

async function serve(adapter: TrainerAdapter, env: NodeJS.ProcessEnv): Promise<undefined> {
  const config = loadTrainerConfig(adapter.framework, adapter.defaultPort, 'serve', env);
  const logger = createLogger(`trainer-${adapter.framework}`);
  const telemetry = startTelemetry(`vtp-trainer-${adapter.framework}`);
  const service = createTrainerService(adapter, config, { logger });
  service.lifecycle.addShutdownHook('telemetry', () => telemetry.shutdown());
  await service.start();
  service.lifecycle.exitOnSignals();
  if (config.exitWithParent) service.lifecycle.exitWithParent(startedBy);
  return undefined;
}

async function runOnce(adapter: TrainerAdapter, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadTrainerConfig(adapter.framework, adapter.defaultPort, 'run', env);
  const spec = parseTrainingSpec(adapter, await readSpec(args, env), 'spec');
  const logger = createLogger(`trainer-${adapter.framework}`).child({ mode: 'run' });
  const telemetry = startTelemetry(`vtp-trainer-${adapter.framework}`);
  const { trainings, delivery } = createTrainerRuntime(adapter, config, { logger });
  await delivery.recover();

  const { training } = trainings.start(spec);
  const stop = () => training.stop('cancel');
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const status = await training.done;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);

  if (await delivery.drain(config.callbackDrainTimeoutMs)) {
    logger.info({ status }, 'training ended; every event delivered');
  } else {
    const kept = delivery.pending();
    await delivery.close();
    logger.warn(
      { status, events: kept, outbox: config.outboxDir },
      'training ended; the backend did not take every event in time: they stay in the outbox for the next start',
    );
  }
  await telemetry.shutdown();
  if (status === 'succeeded') return RUN_EXIT_CODES.succeeded;
  return status === 'cancelled' ? RUN_EXIT_CODES.cancelled : RUN_EXIT_CODES.failed;
}

/**
 * One weights check (a Kubernetes Job of the trainer image): the verdict, valid or not, is the last line on stdout
 * and the exit code 0; a check that could not run exits 1.
 */
async function checkWeightsOnce(adapter: TrainerAdapter, env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadTrainerConfig(adapter.framework, adapter.defaultPort, 'run', env);
  if (!env.WEIGHTS_CHECK_JSON) throw new UsageError(`No weights check: set WEIGHTS_CHECK_JSON\n\n${USAGE}`);
  let body: unknown;
  try {
    body = JSON.parse(env.WEIGHTS_CHECK_JSON);
  } catch (err) {
    throw new UsageError(`WEIGHTS_CHECK_JSON is not JSON: ${(err as Error).message}`);
  }
  const request = parseInput(WeightsCheckRequestBody, body, 'WEIGHTS_CHECK_JSON');
  const logger = createLogger(`trainer-${adapter.framework}`).child({ mode: 'check-weights' });
  const checker = new WeightsChecker({
    adapter,
    python: config.python ?? resolvePython(repoRoot),
    runnerHelperDir,
    workDir: config.workDir,
    limits: config.weightsCheck,
    logger,
  });
  const verdict = await checker.check(request);
  process.stdout.write(`${JSON.stringify(verdict)}\n`);
  return 0;
}

async function readSpec(args: string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  const specIndex = args.indexOf('--spec');
  const file = specIndex >= 0 ? args[specIndex + 1] : undefined;
  if (specIndex >= 0 && !file) throw new UsageError('--spec needs a file');
  const text = file ? await readFile(file, 'utf8') : env.TRAINING_SPEC_JSON;
  if (!text)
    throw new UsageError(`No training spec: pass --spec <file> or set TRAINING_SPEC_JSON\n\n${USAGE}`);
  try {
    const spec = JSON.parse(text) as { callback?: Record<string, unknown> };
    // In a Kubernetes Job the callback token comes from a Secret, never from the spec in the pod's env.
    if (env.CALLBACK_TOKEN) spec.callback = { ...spec.callback, token: env.CALLBACK_TOKEN };
    return spec;
  } catch (err) {
    throw new UsageError(
      `The training spec (${file ?? 'TRAINING_SPEC_JSON'}) is not JSON: ${(err as Error).message}`,
    );
  }
}
