import type { CommonOptions, DatasetEntry, SampleDataset } from './dataset.ts';
import { imageName, requireInteger, resolveCommonOptions, SPLITS } from './dataset.ts';
import { encodePng } from './png.ts';
import type { Random } from './random.ts';
import { createRandom } from './random.ts';
import type { Shape } from './scene.ts';
import { randomShapeSize, renderScene } from './scene.ts';

export interface ImagefolderOptions extends CommonOptions {
  /** Images per class in the train split. Default 20. */
  trainPerClass?: number;
  /** Images per class in the val split. Default 5. */
  valPerClass?: number;
}

/**
 * A classification dataset laid out as train/<class>/*.png and val/<class>/*.png. Each image holds one large,
 * roughly centred shape whose colour is its class, so a tiny CNN learns it in a few epochs.
 */
export function generateImagefolder(options: ImagefolderOptions = {}): SampleDataset {
  const { seed, imageSize, classes } = resolveCommonOptions(options);
  const perClass = {
    train: requireInteger('trainPerClass', options.trainPerClass ?? 20, 0, 100_000),
    val: requireInteger('valPerClass', options.valPerClass ?? 5, 0, 100_000),
  };
  const random = createRandom(seed);
  const entries: DatasetEntry[] = [];

  for (const split of SPLITS) {
    classes.forEach((style, classIndex) => {
      for (let index = 0; index < perClass[split]; index++) {
        const { image } = renderScene(
          imageSize,
          [centredShape(imageSize, classIndex, random)],
          classes,
          random,
        );
        entries.push({
          path: `${split}/${style.name}/${imageName(style.name, index)}`,
          data: encodePng(image),
        });
      }
    });
  }
  return {
    format: 'imagefolder',
    classNames: classes.map((c) => c.name),
    imageCounts: { train: perClass.train * classes.length, val: perClass.val * classes.length },
    entries,
  };
}

/** Big enough to dominate the image, nudged a little off-centre so images are not all alike. */
function centredShape(imageSize: number, classIndex: number, random: Random): Shape {
  const { kind, width, height } = randomShapeSize(
    random,
    Math.round(imageSize * 0.4),
    Math.round(imageSize * 0.7),
  );
  const jitter = Math.round(imageSize * 0.08);
  return {
    kind,
    classIndex,
    width,
    height,
    x: Math.round((imageSize - width) / 2) + random.int(-jitter, jitter),
    y: Math.round((imageSize - height) / 2) + random.int(-jitter, jitter),
  };
}
