import { type Framework, type JobCreateRequestBody, unwrap } from '@vtp/client';
import { Argument, type Command } from 'commander';
import type { Context } from '../context.ts';
import { findDataset } from '../datasets.ts';
import { CliError, ExitCode } from '../exitCodes.ts';
import { followJob } from '../follow.ts';
import { describeJob } from '../jobView.ts';
import { collectSetting, nonNegativeInt, positiveInt } from '../values.ts';

export function registerTrain(program: Command, context: (cmd: Command) => Context): void {
  program
    .command('train')
    .description('Start a training job (`vtp models` lists the models); --follow shows it live to its end')
    .addArgument(new Argument('<framework>', 'the framework').choices(['ultralytics', 'timm']))
    .argument('<model>', 'e.g. yolo11n, test_resnet')
    .requiredOption('--dataset <dataset>', "the dataset's id or name")
    .option('--epochs <n>', 'epochs to train', positiveInt)
    .option(
      '--set <key=value>',
      "a hyperparameter by the framework's own name, repeatable (imgsz=64, lr0=0.01)",
      collectSetting,
    )
    .option(
      '--max-retries <n>',
      'automatic retries after an infrastructure failure (default 2)',
      nonNegativeInt,
    )
    .option(
      '--follow',
      'show live progress until the job ends, then its summary; exit 1 if it did not succeed',
    )
    .action(
      async (
        framework: Framework,
        model: string,
        options: {
          dataset: string;
          epochs?: number;
          set?: Record<string, unknown>;
          maxRetries?: number;
          follow?: boolean;
        },
        cmd: Command,
      ) => {
        const { out, client } = context(cmd);
        const vtp = await client();
        const dataset = await findDataset(vtp, options.dataset);
        const hyperparameters = { ...options.set, ...(options.epochs ? { epochs: options.epochs } : {}) };
        const body = {
          framework,
          model,
          datasetId: dataset.id,
          hyperparameters,
          ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
        } as JobCreateRequestBody;
        const created = unwrap(await vtp.api.POST('/v1/jobs', { body }));
        if (!options.follow) {
          out.result(
            created,
            () => `Started job ${created.id} (${created.status}): vtp jobs show ${created.id}`,
          );
          return;
        }
        out.info(`Started job ${created.id}`);
        const job = await followJob(vtp, out, created.id);
        out.result(job, () => describeJob(out, job));
        if (job.status !== 'succeeded') {
          const reason = job.error ? `${job.error.code}: ${job.error.message}` : job.status;
          throw new CliError(`job ${job.id} ${job.status}: ${reason}`, ExitCode.failed);
        }
      },
    );
}
