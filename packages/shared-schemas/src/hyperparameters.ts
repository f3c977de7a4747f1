import { z } from './zod.ts';

const common = {
  epochs: z.number().int().min(1).max(1000).default(10),
  imgsz: z.number().int().min(32).max(2048).default(640),
  batch: z.number().int().min(1).max(1024).default(16),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  // No default: the runner picks the framework's own on CUDA, and in-process loading and fp32 on the CPU.
  workers: z.number().int().min(0).max(64).optional().openapi({
    description: "Data-loading worker processes; unset = the framework's default on CUDA, 0 on the CPU",
  }),
  amp: z.boolean().optional().openapi({
    description:
      "Mixed precision (CUDA only); unset = the framework's default (Ultralytics: on, after its check; timm: off)",
  }),
};

/** Ultralytics' own argument names (https://docs.ultralytics.com/modes/train/#train-settings). */
export const UltralyticsHyperparameters = z
  .strictObject({
    ...common,
    lr0: z.number().positive().max(1).default(0.01),
    lrf: z.number().positive().max(1).default(0.01),
    momentum: z.number().min(0).max(1).default(0.937),
    weight_decay: z.number().min(0).max(1).default(0.0005),
    optimizer: z.enum(['SGD', 'Adam', 'AdamW', 'NAdam', 'RAdam', 'RMSProp', 'auto']).default('auto'),
    patience: z.number().int().min(0).max(1000).default(100),
    warmup_epochs: z.number().min(0).max(100).default(3),
    cos_lr: z.boolean().default(false),
    mosaic: z.number().min(0).max(1).default(1),
    fliplr: z.number().min(0).max(1).default(0.5),
  })
  .openapi('UltralyticsHyperparameters');
export type UltralyticsHyperparameters = z.infer<typeof UltralyticsHyperparameters>;

/** timm train.py's argument names (https://huggingface.co/docs/timm/training_script). */
export const TimmHyperparameters = z
  .strictObject({
    ...common,
    imgsz: z.number().int().min(32).max(1024).default(224),
    batch: z.number().int().min(1).max(1024).default(32),
    lr: z.number().positive().max(10).default(0.001),
    opt: z.enum(['sgd', 'momentum', 'adam', 'adamw', 'lamb', 'rmsprop']).default('adamw'),
    sched: z.enum(['cosine', 'step', 'plateau', 'none']).default('cosine'),
    weight_decay: z.number().min(0).max(1).default(0.05),
    momentum: z.number().min(0).max(1).default(0.9),
    warmup_epochs: z.number().int().min(0).max(100).default(0),
    smoothing: z.number().min(0).max(1).default(0.1),
    drop_rate: z.number().min(0).max(1).default(0),
  })
  .openapi('TimmHyperparameters');
export type TimmHyperparameters = z.infer<typeof TimmHyperparameters>;

export type Hyperparameters = UltralyticsHyperparameters | TimmHyperparameters;
