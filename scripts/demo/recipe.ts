// What the demo trains, on what, and the held-out score each model must reach: the tuned settings in one place.
import type { Job, JobCreateRequestBody } from '@vtp/client';
import type { ImagefolderOptions, YoloOptions } from '@vtp/sample-data';

/** A job's create body but for its dataset, which the demo uploads first; one per framework. */
type JobTemplate = JobCreateRequestBody extends infer Body
  ? Body extends unknown
    ? Omit<Body, 'datasetId'>
    : never
  : never;

export interface Training {
  /** The job's label in the demo's output. */
  label: string;
  datasetName: string;
  job: JobTemplate;
  /** Metrics shown on the live progress line. */
  progressKeys: string[];
  /** The metric on the val split (images the training never learns from) that must reach `target`. */
  metric: string;
  target: number;
  /** How to print the metric, e.g. as a percentage. */
  format: (value: number) => string;
}

// `DEMO_EPOCHS=N` sets both epoch counts (shorter runs to try the platform; the targets then likely fail).
const epochsOverride = positiveIntegerSetting('DEMO_EPOCHS');
// `DEMO_SEED=N` generates other datasets and trains from another initialisation: the targets must hold for any.
const seedOverride = positiveIntegerSetting('DEMO_SEED');

function positiveIntegerSetting(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    // A setting of the user's, read before anything starts: one line and exit 2 (usage), not a stack trace.
    process.stderr.write(`demo: ${name} must be a positive integer, not "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

/**
 * Detection from scratch (no pretrained weights can be downloaded): YOLO11n learns fast when the objects are large
 * and few, and when there are enough images per epoch. 96 px keeps an epoch short on two CPU cores.
 */
export const detectionData: YoloOptions = {
  seed: seedOverride ?? 7,
  imageSize: 96,
  trainImages: 300,
  valImages: 100,
  maxObjects: 2,
  objectSize: { min: 0.25, max: 0.45 },
};

export const detection: Training = {
  label: 'ultralytics/yolo11n',
  datasetName: 'shapes-detect',
  job: {
    framework: 'ultralytics',
    model: 'yolo11n',
    hyperparameters: {
      epochs: epochsOverride ?? 10,
      imgsz: 96,
      batch: 16,
      seed: 1,
      // Mosaic tiles four images into one at a quarter of the scale: on a small set of large objects it hides what
      // the model must learn, and Ultralytics only turns it off for the last 10 epochs.
      mosaic: 0,
      warmup_epochs: 1,
    },
    // The trained detector also comes out as ONNX (Ultralytics' own exporter, run by the trainer after training).
    export: ['onnx'],
  },
  progressKeys: ['train/box_loss', 'metrics/mAP50(B)'],
  metric: 'metrics/mAP50(B)',
  target: 0.5,
  format: (value) => value.toFixed(3),
};

/** One large shape per image whose colour is its class: a tiny CNN learns it in a few epochs. */
export const classificationData: ImagefolderOptions = {
  seed: seedOverride ?? 7,
  imageSize: 64,
  trainPerClass: 40,
  valPerClass: 20,
};

export const classification: Training = {
  label: 'timm/test_resnet',
  datasetName: 'shapes-classify',
  job: {
    framework: 'timm',
    model: 'test_resnet',
    // Top-1 is at 100 % after the first epoch; more would only take CPU from the detector running alongside.
    hyperparameters: { epochs: epochsOverride ?? 3, imgsz: 64, batch: 16, lr: 0.01, seed: seedOverride ?? 1 },
  },
  progressKeys: ['train/loss', 'val/top1'],
  metric: 'val/top1',
  target: 90,
  format: (value) => `${value.toFixed(1)} %`,
};

export interface Verdict {
  training: Training;
  value: number | undefined;
  met: boolean;
}

/** Whether each finished job reached its target on the held-out split; a job without the metric did not. */
export function verdicts(pairs: readonly { training: Training; job: Job }[]): Verdict[] {
  return pairs.map(({ training, job }) => {
    const value = job.latestMetrics?.[training.metric];
    return {
      training,
      value,
      met: job.status === 'succeeded' && value !== undefined && value >= training.target,
    };
  });
}
