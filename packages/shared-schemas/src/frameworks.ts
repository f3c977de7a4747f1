import { z } from './zod.ts';

export const Framework = z.enum(['ultralytics', 'timm']).openapi('Framework');
export type Framework = z.infer<typeof Framework>;

export const DatasetFormat = z.enum(['yolo', 'imagefolder']).openapi('DatasetFormat');
export type DatasetFormat = z.infer<typeof DatasetFormat>;

/** The dataset format each framework trains on. */
export const formatForFramework: Record<Framework, DatasetFormat> = {
  ultralytics: 'yolo',
  timm: 'imagefolder',
};

export const ModelTask = z.enum(['detect', 'classify']).openapi('ModelTask');
export type ModelTask = z.infer<typeof ModelTask>;

export const TrainerModel = z
  .object({
    name: z.string(),
    task: ModelTask,
    needsPretrainedWeights: z
      .boolean()
      .openapi({ description: 'True when the model cannot train from scratch and needs a checkpoint in S3' }),
    description: z.string(),
  })
  .openapi('TrainerModel');
export type TrainerModel = z.infer<typeof TrainerModel>;

/**
 * Models each framework's trainer supports. All train from scratch; a job may name a checkpoint in S3 to start
 * from instead. Kept here so the backend refuses an unknown model before any process starts.
 */
export const modelCatalog: Record<Framework, readonly TrainerModel[]> = {
  ultralytics: [
    {
      name: 'yolo11n',
      task: 'detect',
      needsPretrainedWeights: false,
      description: 'YOLO11 nano detector (2.6M params)',
    },
    {
      name: 'yolo11s',
      task: 'detect',
      needsPretrainedWeights: false,
      description: 'YOLO11 small detector (9.4M params)',
    },
    {
      name: 'yolo11m',
      task: 'detect',
      needsPretrainedWeights: false,
      description: 'YOLO11 medium detector (20M params)',
    },
    {
      name: 'yolov8n',
      task: 'detect',
      needsPretrainedWeights: false,
      description: 'YOLOv8 nano detector (3.2M params)',
    },
    {
      name: 'yolov8s',
      task: 'detect',
      needsPretrainedWeights: false,
      description: 'YOLOv8 small detector (11M params)',
    },
  ],
  timm: [
    {
      name: 'test_efficientnet',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'Tiny EfficientNet for tests and demos (~0.1M params)',
    },
    {
      name: 'test_resnet',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'Tiny ResNet for tests and demos (~0.4M params)',
    },
    {
      name: 'lcnet_035',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'LCNet 0.35x (~0.4M params)',
    },
    {
      name: 'mobilenetv3_small_050',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'MobileNetV3 small 0.5x (~0.6M params)',
    },
    {
      name: 'efficientnet_b0',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'EfficientNet-B0 (4M params)',
    },
    {
      name: 'resnet18',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'ResNet-18 (11M params)',
    },
    {
      name: 'resnet50',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'ResNet-50 (24M params)',
    },
    {
      name: 'convnext_tiny',
      task: 'classify',
      needsPretrainedWeights: false,
      description: 'ConvNeXt-T (28M params)',
    },
  ],
};

export function findModel(framework: Framework, name: string): TrainerModel | undefined {
  return modelCatalog[framework].find((m) => m.name === name);
}

export const ModelListResponseBody = z
  .object({ items: z.array(TrainerModel.extend({ framework: Framework })) })
  .openapi('ModelListResponseBody');
export type ModelListResponseBody = z.infer<typeof ModelListResponseBody>;
