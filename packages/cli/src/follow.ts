import { type Job, terminalStatuses, unwrap, type VtpClient } from '@vtp/client';
import cliProgress from 'cli-progress';
import { metricsLine } from './jobView.ts';
import type { Output } from './output.ts';

/**
 * Follows a job to its end from its event stream: a live bar with the epoch and the latest metrics on a
 * terminal, one plain line per epoch otherwise, nothing in JSON mode. Returns the finished job.
 */
export async function followJob(vtp: VtpClient, out: Output, jobId: string): Promise<Job> {
  const get = async () => unwrap(await vtp.api.GET('/v1/jobs/{id}', { params: { path: { id: jobId } } }));
  const view = out.json ? undefined : out.interactive ? liveView(jobId) : plainView(jobId);
  const initial = await get();
  view?.status(initial.status, initial.progress.epoch, initial.progress.totalEpochs);
  try {
    for await (const event of vtp.followJob(jobId, {
      onReconnect: () => view?.note('connection lost; reconnecting'),
    })) {
      const p = event.payload;
      if (event.type === 'started') view?.status('running', 0, Number(p.totalEpochs));
      else if (event.type === 'progress' && !event.superseded) {
        view?.epoch(Number(p.epoch), Number(p.totalEpochs), p.metrics as Record<string, unknown>);
      } else if (event.type === 'retrying' || event.type === 'resumed') {
        const from = p.resumeFromEpoch ? ` from epoch ${p.resumeFromEpoch}` : '';
        const why = (p.error as { code?: string } | undefined)?.code;
        view?.note(`${event.type}${why ? ` after ${why}` : ''}: attempt ${p.nextAttempt}${from}`);
      } else if (event.type === 'log' && (p.level === 'warn' || p.level === 'error')) {
        view?.note(`${p.level}: ${String(p.message).split('\n')[0]}`);
      }
    }
  } finally {
    view?.stop();
  }
  const job = await get();
  // The stream ends with the job; a job read a moment before it is stored as ended is read again.
  return terminalStatuses.includes(job.status) ? job : get();
}

interface View {
  status(status: string, epoch: number, totalEpochs: number): void;
  epoch(epoch: number, totalEpochs: number, metrics: Record<string, unknown>): void;
  note(line: string): void;
  stop(): void;
}

function liveView(jobId: string): View {
  const bars = new cliProgress.MultiBar(
    {
      format: `${jobId.slice(0, 8)} {bar} epoch {value}/{total} | {status} {metrics}`,
      hideCursor: true,
      barsize: 24,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(1, 0, { status: 'queued', metrics: '' });
  let metrics = '';
  // Ctrl-C stops following (the bar gives the cursor back); the job itself runs on.
  const interrupted = () => {
    bars.stop();
    process.stderr.write(`Stopped following; the job runs on: vtp jobs show ${jobId} --follow\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  return {
    status(status, epoch, total) {
      bar.setTotal(Math.max(total, 1));
      bar.update(epoch, { status, metrics });
    },
    epoch(epoch, total, values) {
      metrics = metricsLine(values);
      bar.setTotal(total);
      bar.update(epoch, { status: 'running', metrics });
    },
    note: (line) => bars.log(`${line}\n`),
    stop: () => {
      process.off('SIGINT', interrupted);
      bars.stop();
    },
  };
}

function plainView(jobId: string): View {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  let last = '';
  return {
    status(status, epoch, total) {
      const line = `job ${jobId} ${status}${total ? ` (epoch ${epoch}/${total})` : ''}`;
      if (line !== last) write(line);
      last = line;
    },
    epoch: (epoch, total, values) => write(`epoch ${epoch}/${total} ${metricsLine(values, 6)}`.trimEnd()),
    note: write,
    stop: () => undefined,
  };
}
