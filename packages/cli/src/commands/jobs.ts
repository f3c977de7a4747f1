import { type ArtifactKind, type Job, type JobStatus, unwrap } from '@vtp/client';
import { downloadArtifactToFile } from '@vtp/client/node';
import { type Command, Option } from 'commander';
import type { Context } from '../context.ts';
import { CliError, ExitCode } from '../exitCodes.ts';
import { followJob } from '../follow.ts';
import { describeJob, jobDuration, metricsLine } from '../jobView.ts';
import { formatBytes } from '../output.ts';
import { collectPages } from '../paging.ts';
import { bytesBar } from '../progressBar.ts';
import { positiveInt } from '../values.ts';

export function registerJobs(program: Command, context: (cmd: Command) => Context): void {
  const jobs = program
    .command('jobs')
    .description('List, inspect, cancel, resume your training jobs; their logs and checkpoints');

  jobs
    .command('ls')
    .description('Your jobs, newest first')
    .addOption(
      new Option('--status <status>', 'only jobs in this status').choices([
        'queued',
        'dispatching',
        'running',
        'succeeded',
        'failed',
        'cancelled',
      ]),
    )
    .addOption(new Option('--framework <framework>', 'only this framework').choices(['ultralytics', 'timm']))
    .option('--limit <n>', 'at most this many', positiveInt, 50)
    .action(
      async (
        options: { status?: JobStatus; framework?: 'ultralytics' | 'timm'; limit: number },
        cmd: Command,
      ) => {
        const { out, client } = context(cmd);
        const vtp = await client();
        const items = await collectPages(
          async (cursor, limit) =>
            unwrap(
              await vtp.api.GET('/v1/jobs', {
                params: { query: { limit, cursor, status: options.status, framework: options.framework } },
              }),
            ),
          options.limit,
        );
        out.result(items, () =>
          items.length === 0
            ? 'No jobs: vtp train <framework> <model> --dataset <dataset>'
            : out.table(
                ['ID', 'STATUS', 'MODEL', 'EPOCH', 'DURATION', 'METRICS', 'CREATED'],
                items.map((j) => [
                  j.id,
                  j.status,
                  `${j.framework}/${j.model}`,
                  `${j.progress.epoch}/${j.progress.totalEpochs}`,
                  jobDuration(j),
                  metricsLine(j.latestMetrics, 2) || '-',
                  j.createdAt,
                ]),
              ),
        );
      },
    );

  jobs
    .command('show')
    .description('One job: status, progress, metrics, artifacts, and why it failed')
    .argument('<id>', 'the job id')
    .option('--follow', 'follow it live until it ends (exit 1 if it did not succeed)')
    .action(async (id: string, options: { follow?: boolean }, cmd: Command) => {
      const { out, client } = context(cmd);
      const vtp = await client();
      const job = options.follow ? await followJob(vtp, out, id) : await getJob(vtp, id);
      out.result(job, () => describeJob(out, job));
      if (options.follow && job.status !== 'succeeded') {
        throw new CliError(
          `job ${job.id} ${job.status}: ${job.error ? `${job.error.code}: ${job.error.message}` : job.status}`,
          ExitCode.failed,
        );
      }
    });

  jobs
    .command('cancel')
    .description('Cancel a job (its checkpoints so far are kept; `vtp jobs resume` continues it)')
    .argument('<id>', 'the job id')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const { out, client } = context(cmd);
      const vtp = await client();
      const answer = await vtp.api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } });
      const job = unwrap(answer);
      // 202: the cancel was taken (a running training stops at its next step); 200: it had ended already.
      const what =
        answer.response.status === 200
          ? `already ${job.status}`
          : job.status === 'cancelled'
            ? 'cancelled'
            : 'cancelling';
      out.result(job, () => `Job ${job.id}: ${what}`);
    });

  jobs
    .command('resume')
    .description('Continue a failed or cancelled job from its last checkpoint, as its next attempt')
    .argument('<id>', 'the job id')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const { out, client } = context(cmd);
      const vtp = await client();
      const job = unwrap(await vtp.api.POST('/v1/jobs/{id}/resume', { params: { path: { id } } }));
      out.result(
        job,
        () => `Job ${job.id}: ${job.status}, attempt ${job.attempt} (vtp jobs show ${job.id} --follow)`,
      );
    });

  jobs
    .command('logs')
    .description("The training's log (from its trainer while it runs, from storage once it ended)")
    .argument('<id>', 'the job id')
    .option('-f, --follow', 'keep printing new lines until the training ends')
    .action(async (id: string, options: { follow?: boolean }, cmd: Command) => {
      const { out, client } = context(cmd);
      const vtp = await client();
      let log = '';
      for await (const text of vtp.readLogs(id, { follow: options.follow === true })) {
        if (out.json) log += text;
        else process.stdout.write(text);
      }
      if (out.json) out.result({ jobId: id, log }, () => log);
    });

  jobs
    .command('download')
    .description("Download one of a job's artifacts (checked against its recorded size and sha256)")
    .argument('<id>', 'the job id')
    .option('--artifact <kind>', 'best, last, onnx (when exported), metrics or log', 'best')
    .option('-o, --output <path>', 'a file, or a folder to save it in under its own name', '.')
    .action(async (id: string, options: { artifact: string; output: string }, cmd: Command) => {
      const { out, client } = context(cmd);
      const vtp = await client();
      const bar = out.interactive ? bytesBar('downloading') : undefined;
      try {
        const file = await downloadArtifactToFile(vtp, id, options.artifact as ArtifactKind, options.output, {
          onProgress: (p) => bar?.update(p.loaded, p.total),
        });
        bar?.stop();
        out.result(file, () => `Saved ${file.path} (${formatBytes(file.bytes)}, sha256 ${file.sha256})`);
      } finally {
        bar?.stop();
      }
    });
}

async function getJob(vtp: Awaited<ReturnType<Context['client']>>, id: string): Promise<Job> {
  return unwrap(await vtp.api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
}
