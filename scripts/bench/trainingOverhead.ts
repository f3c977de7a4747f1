// Job wall time through the platform against the same training run directly, at two epoch counts: the slope of
// each line is the time per epoch, its intercept the fixed time, so the platform's overhead splits into a
// per-epoch share and a fixed one.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateImagefolder, generateYolo, writeDirectory, zipBuffer } from '@vtp/sample-data';
import { TimmHyperparameters } from '@vtp/shared-schemas';
import { timed } from './measure.ts';

export interface OverheadRow {
  framework: string;
  /** Where both sides trained: CUDA when torch sees a GPU (AMP and loader workers on, as the platform runs). */
  device: 'cpu' | 'cuda';
  epochs: readonly [number, number];
  platformSeconds: readonly [number, number];
  directSeconds: readonly [number, number];
  /** Platform seconds per epoch over direct seconds per epoch, minus one. */
  perEpochOverhead: number;
  /** Platform intercept minus direct intercept, seconds. */
  fixedOverheadSeconds: number;
}

interface Context {
  repoRoot: string;
  url: string;
  auth: Record<string, string>;
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

/** Ultralytics as a user runs it, with the platform's offline preparation (fonts, no hub) and its settings. */
const ULTRALYTICS_DIRECT = `
import sys, tempfile
from ultralytics_offline import disable_online_features, prepare_offline
settings = prepare_offline(tempfile.mkdtemp())
disable_online_features(settings)
from ultralytics import YOLO
data, epochs, out, device = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
YOLO("yolo11n.yaml").train(data=data, epochs=epochs, imgsz=${IMGSZ}, batch=4, device=device, plots=False,
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

function runPython(python: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-2000);
    });
    directRuns.add(child);
    child.once('exit', (code) => {
      directRuns.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`python exited ${code}: ${tail}`));
    });
  });
}

export async function measureTrainingOverhead(c: Context): Promise<OverheadRow[]> {
  const device = (await cudaAvailable(c.python)) ? 'cuda' : 'cpu';
  const post = async <T>(path: string, body: unknown, form?: FormData): Promise<T> => {
    const res = await fetch(`${c.url}${path}`, {
      method: 'POST',
      headers: form ? c.auth : { ...c.auth, 'content-type': 'application/json' },
      body: form ?? JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const upload = async (name: string, format: string, zip: Buffer) => {
    const form = new FormData();
    form.set('name', name);
    form.set('format', format);
    form.set('file', new Blob([new Uint8Array(zip)]), `${name}.zip`);
    return (await post<{ id: string }>('/v1/datasets', undefined, form)).id;
  };
  /** Create -> terminal, as a user sees it (polled every 50 ms). */
  const throughPlatform = async (framework: string, model: string, datasetId: string, hp: object) => {
    const { ms } = await timed(async () => {
      const { id } = await post<{ id: string }>('/v1/jobs', {
        framework,
        model,
        datasetId,
        hyperparameters: hp,
      });
      for (;;) {
        const job = (await (await fetch(`${c.url}/v1/jobs/${id}`, { headers: c.auth })).json()) as {
          status: string;
          error: unknown;
        };
        if (job.status === 'succeeded') return;
        if (job.status === 'failed' || job.status === 'cancelled')
          throw new Error(`${framework} job ${job.status}: ${JSON.stringify(job.error)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    return ms / 1000;
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
        await runPython(c.python, ['-u', join(timmRunner, 'train.py'), '--config', config], work, {
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
    for (const epochs of c.epochs) {
      const runs: { platform: number; direct: number }[] = [];
      for (let run = 0; run < c.repeats; run++) {
        runs.push({
          platform: await throughPlatform(f.framework, f.model, f.datasetId, f.hp(epochs)),
          direct: (await timed(() => f.direct(epochs))).ms / 1000,
        });
      }
      platform.push(median(runs.map((r) => r.platform)));
      direct.push(median(runs.map((r) => r.direct)));
      const list = (key: 'platform' | 'direct') => runs.map((r) => r[key].toFixed(1)).join(', ');
      c.say(`${f.framework} ${epochs} epochs: platform ${list('platform')} s; direct ${list('direct')} s`);
    }
    const [a, b] = c.epochs;
    const slope = (t: number[]) => ((t[1] as number) - (t[0] as number)) / (b - a);
    const intercept = (t: number[]) => (t[0] as number) - slope(t) * a;
    rows.push({
      framework: f.framework,
      device,
      epochs: c.epochs,
      platformSeconds: [platform[0] as number, platform[1] as number],
      directSeconds: [direct[0] as number, direct[1] as number],
      perEpochOverhead: slope(platform) / slope(direct) - 1,
      fixedOverheadSeconds: intercept(platform) - intercept(direct),
    });
  }
  return rows;
}
