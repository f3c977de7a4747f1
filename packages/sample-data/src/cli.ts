#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { SampleDataset } from './dataset.ts';
import { writeDirectory } from './directory.ts';
import { generateImagefolder } from './imagefolder.ts';
import { generateYolo } from './yolo.ts';
import { writeZip } from './zip.ts';

const USAGE = `Usage: vtp-sample-data --format yolo|imagefolder --out <file.zip|dir> [options]

  --format      yolo (detection) or imagefolder (classification)
  --out         a path ending in .zip writes a zip, anything else a directory
  --seed N      same seed, same bytes (default 1)
  --size N      image width and height in pixels (default 64)
  --train N     yolo: train images (default 30); imagefolder: train images per class (default 20)
  --val N       yolo: val images (default 10); imagefolder: val images per class (default 5)
  --classes N   number of classes, 1 to 8: red, green, blue, yellow, magenta, cyan, white, black (default 3)`;

async function main(argv: string[]): Promise<string> {
  const values = parseFlags(argv);
  if (values.help) return USAGE;
  if (!values.out) throw new UsageError('--out is required');

  const common = {
    seed: integerFlag('seed', values.seed),
    imageSize: integerFlag('size', values.size),
    classes: integerFlag('classes', values.classes),
  };
  const train = integerFlag('train', values.train);
  const val = integerFlag('val', values.val);
  let dataset: SampleDataset;
  if (values.format === 'yolo') {
    dataset = generateYolo({ ...common, trainImages: train, valImages: val });
  } else if (values.format === 'imagefolder') {
    dataset = generateImagefolder({ ...common, trainPerClass: train, valPerClass: val });
  } else {
    throw new UsageError(`--format must be yolo or imagefolder, got ${JSON.stringify(values.format ?? '')}`);
  }

  const asZip = values.out.endsWith('.zip');
  const bytes = asZip
    ? await writeZip(dataset.entries, values.out)
    : await writeDirectory(dataset.entries, values.out);
  return [
    `wrote ${dataset.format} dataset to ${values.out} (${asZip ? 'zip' : 'directory'})`,
    `  classes: ${dataset.classNames.join(', ')}`,
    `  images: ${dataset.imageCounts.train} train, ${dataset.imageCounts.val} val`,
    `  files: ${dataset.entries.length}, bytes: ${bytes}`,
  ].join('\n');
}

class UsageError extends Error {}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        format: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
        train: { type: 'string' },
        val: { type: 'string' },
        classes: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    // Unknown flags and missing values: report them with the usage text, like other bad input.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Undefined stays undefined so the generator's default applies. */
function integerFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw))
    throw new UsageError(`--${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

try {
  console.log(await main(process.argv.slice(2)));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${message}`);
  if (error instanceof UsageError) console.error(`\n${USAGE}`);
  process.exitCode = error instanceof UsageError || error instanceof RangeError ? 2 : 1;
}
