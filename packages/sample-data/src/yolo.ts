import type { CommonOptions, DatasetEntry, SampleDataset } from './dataset.ts';
import { imageName, requireInteger, resolveCommonOptions, SPLITS } from './dataset.ts';
import { encodePng } from './png.ts';
import type { Random } from './random.ts';
import { createRandom } from './random.ts';
import type { DrawnShape, Shape } from './scene.ts';
import { randomShapeSize, renderScene } from './scene.ts';

export interface YoloOptions extends CommonOptions {
  /** Images in the train split. Default 30. */
  trainImages?: number;
  /** Images in the val split. Default 10. */
  valImages?: number;
}

const MAX_OBJECTS_PER_IMAGE = 3;
const PLACEMENT_ATTEMPTS = 30;

/**
 * A YOLO detection dataset: data.yaml, images/{train,val}/*.png and labels/{train,val}/*.txt with one
 * `class xc yc w h` line per object, normalised to [0, 1] and exactly bounding the drawn pixels.
 */
export function generateYolo(options: YoloOptions = {}): SampleDataset {
  const { seed, imageSize, classes } = resolveCommonOptions(options);
  const counts = {
    train: requireInteger('trainImages', options.trainImages ?? 30, 0, 100_000),
    val: requireInteger('valImages', options.valImages ?? 10, 0, 100_000),
  };
  const random = createRandom(seed);
  const entries: DatasetEntry[] = [
    { path: 'data.yaml', data: Buffer.from(dataYaml(classes.map((c) => c.name))) },
  ];

  for (const split of SPLITS) {
    for (let index = 0; index < counts[split]; index++) {
      const shapes = placeShapes(imageSize, classes.length, random);
      const { image, drawn } = renderScene(imageSize, shapes, classes, random);
      const name = imageName(split, index);
      entries.push({ path: `images/${split}/${name}`, data: encodePng(image) });
      entries.push({
        path: `labels/${split}/${name.replace(/\.png$/, '.txt')}`,
        data: Buffer.from(labelLines(drawn, imageSize)),
      });
    }
  }
  return { format: 'yolo', classNames: classes.map((c) => c.name), imageCounts: counts, entries };
}

/** Relative train/val paths and no `path` key, so the trainer resolves them against the file's own folder. */
function dataYaml(classNames: readonly string[]): string {
  return ['train: images/train', 'val: images/val', 'names:', ...classNames.map((n) => `  - ${n}`), ''].join(
    '\n',
  );
}

function labelLines(drawn: readonly DrawnShape[], imageSize: number): string {
  return drawn
    .map(({ shape, box }) => {
      const values = [
        (box.x + box.width / 2) / imageSize,
        (box.y + box.height / 2) / imageSize,
        box.width / imageSize,
        box.height / imageSize,
      ];
      return [shape.classIndex, ...values.map((v) => v.toFixed(6))].join(' ');
    })
    .join('\n')
    .concat('\n');
}

/** 1-3 shapes whose boxes keep a pixel apart, so no shape hides part of another and every box stays exact. */
function placeShapes(imageSize: number, classCount: number, random: Random): Shape[] {
  const wanted = random.int(1, MAX_OBJECTS_PER_IMAGE);
  const minSize = Math.round(imageSize * 0.15);
  const maxSize = Math.round(imageSize * 0.35);
  const shapes: Shape[] = [];
  for (let n = 0; n < wanted; n++) {
    const classIndex = random.int(0, classCount - 1);
    const { kind, width, height } = randomShapeSize(random, minSize, maxSize);
    for (let attempt = 0; attempt < PLACEMENT_ATTEMPTS; attempt++) {
      const candidate: Shape = {
        kind,
        classIndex,
        width,
        height,
        x: random.int(0, imageSize - width),
        y: random.int(0, imageSize - height),
      };
      if (shapes.every((placed) => apart(placed, candidate))) {
        shapes.push(candidate);
        break;
      }
    }
  }
  return shapes;
}

function apart(a: Shape, b: Shape): boolean {
  return a.x + a.width < b.x || b.x + b.width < a.x || a.y + a.height < b.y || b.y + b.height < a.y;
}
