// Job wall time through the platform against the same training run directly, at two epoch counts. The time per
// epoch is read inside each run, between consecutive epoch ends (the platform's progress events, the direct run's
// own epoch-end lines): a VM's noise from one whole run to the next then drops out of it. What the epochs do not
// explain of the wall time is the fixed time, so the platform's overhead splits into a per-epoch share and a
// fixed one.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { generateImagefolder, generateYolo, writeDirectory, zipBuffer } from '@vtp/sample-data';
import { TimmHyperparameters } from '@vtp/shared-schemas';
import {
  type Framework,
  type JobCreateRequestBody,
  unwrap,
  type VtpClient,
} from '../../packages/client/src/index.ts';
import { timed } from './measure.ts';

export interface OverheadRow {
  framework: string;
  /** Where both sides trained: CUDA when torch sees a GPU (AMP and loader workers on, as the platform runs). */
  device: 'cpu' | 'cuda';
  epochs: readonly [number, number];
  platformSeconds: readonly [number, number];
  directSeconds: readonly [number, number];
  /** Median time between consecutive epoch ends, over every run: platform, then direct. */
  epochSeconds: readonly [number, number];
  /** Platform seconds per epoch over direct seconds per epoch, minus one. */
  perEpochOverhead: number;
  /**
   * CPU seconds the platform's own processes (backend, trainer service, PostgreSQL, object store) spent per
   * epoch while its trainings ran, and that as a share of the machine during a direct epoch: what a training
   * that keeps every core busy loses to them.
   */
  platformCpuPerEpoch: number;
  platformCpuShare: number;
  /** Checkpoint bytes the platform stored per epoch (the runner's snapshots, uploaded by the trainer). */
  checkpointBytesPerEpoch: number;
  /** Platform's fixed time minus the direct run's, seconds. */
  fixedOverheadSeconds: number;
}

interface Context {
  repoRoot: string;
  vtp: VtpClient;
  /** CPU seconds used so far by the platform's processes, the training's own left out. */
  platformCpuSeconds(): Promise<number>;
  python: string;
  dir: string;
  epochs: readonly [number, number];
  /** Training images per dataset: epochs long enough that per-epoch costs compare to real ones. */
  images: number;
  /** Runs of each measurement, platform and direct interleaved; the median counts (a shared VM is noisy). */
  repeats: number;
  say(line: string): void;
}

const IMGSZ = 64;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The line a direct run prints on stdout at each epoch's end: the runner protocol's epoch event starts so. */
const EPOCH_END = '{"type":"epoch"';

/**
 * Ultralytics as a user runs it, with the platform's offline preparation (fonts, no hub) and its settings. It
 * marks each epoch's end where the platform's runner reports it: on_fit_epoch_end after that epoch's training
 * (the callback runs once more for the final evaluation, which is no epoch).
 */
const ULTRALYTICS_DIRECT = `
import sys, tempfile
from ultralytics_offline import disable_online_features, prepare_offline
settings = prepare_offline(tempfile.mkdtemp())
disable_online_features(settings)
from ultralytics import YOLO
data, epochs, out, device = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
model = YOLO("yolo11n.yaml")
trained = []
model.add_callback("on_train_epoch_end", lambda trainer: trained.append(trainer.epoch))
def fit_epoch_end(trainer):
    if trained and trained[-1] == trainer.epoch:
        trained.clear()
        print('${EPOCH_END}}', flush=True)
model.add_callback("on_fit_epoch_end", fit_epoch_end)
model.train(data=data, epochs=epochs, imgsz=${IMGSZ}, batch=4, device=device, plots=False,
    pretrained=False, seed=0, project=out, name="direct", exist_ok=True)
`;

/** The direct runs going on, so that a bench stopped half-way leaves none behind. */
const directRuns = new Set<ChildProcess>();

export function stopDirectRuns(): void {
  for (const child of directRuns) child.kill('SIGKILL');
}

/** Whether torch in the trainers' Python sees a CUDA GPU: the platform then trains there ('auto'). */
export function cudaAvailable(python: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', 'import torch; print(torch.cuda.is_available())'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', () => resolve(out.trim() === 'True'));
  });
}

/** Runs a direct training; resolves with the times (ms) at which it printed each epoch's end. */
function runPython(
  python: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const epochEnds: number[] = [];
    let line = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (line + chunk.toString()).split('\n');
      line = lines.pop() as string;
      for (const full of lines) if (full.startsWith(EPOCH_END)) epochEnds.push(performance.now());
    });
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-2000);
    });
    directRuns.add(child);
    child.once('close', (code) => {
      directRuns.delete(child);
      if (code === 0) resolve(epochEnds);
      else reject(new Error(`python exited ${code}: ${tail}`));
    });
  });
}

/** The time between each epoch's end and the next one's, seconds. */
function epochIntervals(ends: number[]): number[] {
  return ends.slice(1).map((end, i) => (end - (ends[i] as number)) / 1000);
}

export async function measureTrainingOverhead(c: Context): Promise<OverheadRow[]> {
  const device = (await cudaAvailable(c.python)) ? 'cuda' : 'cpu';
  const upload = async (name: string, format: 'yolo' | 'imagefolder', zip: Buffer) =>
    (
      await c.vtp.uploadDataset({
        name,
        format,
        file: new Blob([new Uint8Array(zip)]),
        filename: `${name}.zip`,
      })
    ).id;
  /**
   * Create -> terminal, as a user sees it: from the job's event stream, as `vtp train` follows a job (a client
   * polling the job many times a second would bill its own requests to the platform). The trainer stamps each
   * progress event as the runner reports the epoch's end.
   */
  const throughPlatform = async (
    framework: Framework,
    model: string,
    datasetId: string,
    hp: JobCreateRequestBody['hyperparameters'],
  ) => {
    let id = '';
    // The platform's CPU from the first epoch's end to the last one's: what it spends per epoch, not per job.
    let firstCpu: number | undefined;
    let lastCpu = 0;
    let checkpointBytes = 0;
    const { ms, value: epochEnds } = await timed(async () => {
      ({ id } = unwrap(
        await c.vtp.api.POST('/v1/jobs', { body: { framework, model, datasetId, hyperparameters: hp } }),
      ));
      const ends: number[] = [];
      for await (const event of c.vtp.followJob(id)) {
        if (event.type === 'checkpoint')
          for (const a of event.payload.artifacts as { bytes: number }[]) checkpointBytes += a.bytes;
        if (event.type !== 'progress') continue;
        ends.push(Date.parse(event.timestamp));
        lastCpu = await c.platformCpuSeconds();
        firstCpu ??= lastCpu;
      }
      return ends;
    });
    const job = unwrap(await c.vtp.api.GET('/v1/jobs/{id}', { params: { path: { id } } }));
    if (job.status !== 'succeeded')
      throw new Error(`${framework} job ${job.status}: ${JSON.stringify(job.error)}`);
    const cpuSeconds = lastCpu - (firstCpu ?? lastCpu);
    return { seconds: ms / 1000, epochEnds, cpuSeconds, checkpointBytes };
  };

  const yolo = generateYolo({ imageSize: IMGSZ, trainImages: c.images, valImages: c.images / 4, classes: 2 });
  const images = generateImagefolder({
    imageSize: IMGSZ,
    trainPerClass: c.images / 4,
    valPerClass: c.images / 16,
  });
  const yoloDir = join(c.dir, 'direct-yolo');
  const imagesDir = join(c.dir, 'direct-images');
  await writeDirectory(yolo.entries, yoloDir);
  await writeDirectory(images.entries, imagesDir);
  const yoloId = await upload('overhead-yolo', 'yolo', await zipBuffer(yolo.entries));
  const imagesId = await upload('overhead-images', 'imagefolder', await zipBuffer(images.entries));

  const ultralyticsRunner = join(c.repoRoot, 'services/trainer-ultralytics/runner');
  const timmRunner = join(c.repoRoot, 'services/trainer-timm/runner');
  const frameworks = [
    {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: yoloId,
      hp: (epochs: number) => ({ epochs, imgsz: IMGSZ, batch: 4 }),
      direct: async (epochs: number) =>
        runPython(
          c.python,
          [
            '-c',
            ULTRALYTICS_DIRECT,
            join(yoloDir, 'data.yaml'),
            String(epochs),
            join(c.dir, 'direct-out'),
            device === 'cuda' ? '0' : 'cpu',
          ],
          ultralyticsRunner,
        ),
    },
    {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: imagesId,
      hp: (epochs: number) => ({ epochs, imgsz: IMGSZ, batch: 4 }),
      // timm ships no training entry point: the baseline is the platform's timm runner alone, on the extracted
      // dataset (no trainer service, HTTP, storage or callbacks).
      direct: async (epochs: number) => {
        const work = join(c.dir, `direct-timm-${epochs}`);
        await rm(work, { recursive: true, force: true }); // an earlier run's snapshots
        await mkdir(work, { recursive: true });
        const config = join(work, 'config.json');
        await writeFile(
          config,
          JSON.stringify({
            jobId: `direct-${epochs}`,
            model: 'test_resnet',
            datasetDir: imagesDir,
            dataYaml: null,
            outputDir: join(work, 'output'),
            snapshotDir: join(work, 'snapshots'),
            // The defaults the API fills in, so both sides train with the same hyperparameters.
            hyperparameters: TimmHyperparameters.parse({ epochs, imgsz: IMGSZ, batch: 4 }),
            initialWeights: null,
            resume: null,
            device,
          }),
        );
        return runPython(c.python, ['-u', join(timmRunner, 'train.py'), '--config', config], work, {
          PYTHONPATH: join(c.repoRoot, 'packages/trainer-runtime/python'),
        });
      },
    },
  ] as const;

  const rows: OverheadRow[] = [];
  for (const f of frameworks) {
    // A warm trainer: its service is up and has trained once before the measured jobs.
    await throughPlatform(f.framework, f.model, f.datasetId, f.hp(1));
    const platform: number[] = [];
    const direct: number[] = [];
    const intervals = { platform: [] as number[], direct: [] as number[] };
    let platformCpu = 0;
    let checkpointBytes = 0;
    let platformEpochs = 0;
    for (const epochs of c.epochs) {
      const runs: { platform: number; direct: number }[] = [];
      for (let run = 0; run < c.repeats; run++) {
        const throughIt = await throughPlatform(f.framework, f.model, f.datasetId, f.hp(epochs));
        const directly = await timed(() => f.direct(epochs));
        for (const [side, ends] of [
          ['platform', throughIt.epochEnds],
          ['direct', directly.value],
        ] as const) {
          if (ends.length !== epochs)
            throw new Error(`${f.framework} ${side}: ${ends.length} epoch ends, not ${epochs}`);
          intervals[side].push(...epochIntervals(ends));
        }
        platformCpu += throughIt.cpuSeconds;
        checkpointBytes += throughIt.checkpointBytes;
        platformEpochs += epochs;
        runs.push({ platform: throughIt.seconds, direct: directly.ms / 1000 });
      }
      platform.push(median(runs.map((r) => r.platform)));
      direct.push(median(runs.map((r) => r.direct)));
      const list = (key: 'platform' | 'direct') => runs.map((r) => r[key].toFixed(1)).join(', ');
      c.say(`${f.framework} ${epochs} epochs: platform ${list('platform')} s; direct ${list('direct')} s`);
    }
    const epochSeconds = [median(intervals.platform), median(intervals.direct)] as const;
    const spread = (values: number[]) => values.map((v) => v.toFixed(2)).join(' ');
    c.say(`${f.framework} seconds between epoch ends: platform ${spread(intervals.platform)}`);
    c.say(`${f.framework} seconds between epoch ends: direct ${spread(intervals.direct)}`);
    // What the epochs do not explain, averaged over both epoch counts: start-up, the first epoch's warm-up, the end.
    const fixed = (walls: number[], perEpoch: number) =>
      c.epochs.reduce((sum, epochs, i) => sum + (walls[i] as number) - epochs * perEpoch, 0) /
      c.epochs.length;
    rows.push({
      framework: f.framework,
      device,
      epochs: c.epochs,
      platformSeconds: [platform[0] as number, platform[1] as number],
      directSeconds: [direct[0] as number, direct[1] as number],
      epochSeconds,
      perEpochOverhead: epochSeconds[0] / epochSeconds[1] - 1,
      platformCpuPerEpoch: platformCpu / intervals.platform.length,
      checkpointBytesPerEpoch: checkpointBytes / platformEpochs,
      platformCpuShare: platformCpu / intervals.platform.length / (epochSeconds[1] * availableParallelism()),
      fixedOverheadSeconds: fixed(platform, epochSeconds[0]) - fixed(direct, epochSeconds[1]),
    });
  }
  return rows;
}
