import { basename, extname } from 'node:path';
import { type Dataset, unwrap } from '@vtp/client';
import { uploadDatasetFrom } from '@vtp/client/node';
import { type Command, Option } from 'commander';
import type { Context } from '../context.ts';
import { findDataset, listDatasets } from '../datasets.ts';
import { formatBytes, type Output } from '../output.ts';
import { bytesBar } from '../progressBar.ts';
import { positiveInt } from '../values.ts';

export function registerDatasets(program: Command, context: (cmd: Command) => Context): void {
  const datasets = program.command('datasets').description('Upload, list, show and delete your datasets');

  datasets
    .command('upload')
    .description('Upload a dataset: a .zip, or a folder (zipped on the fly while it uploads)')
    .argument(
      '<path>',
      'a .zip, or a folder in the format (YOLO: data.yaml, images/, labels/; imagefolder: train/<class>/, val/<class>/)',
    )
    .addOption(
      new Option('--format <format>', 'the layout').choices(['yolo', 'imagefolder']).makeOptionMandatory(),
    )
    .option('--name <name>', 'its name (default: the file or folder name)')
    .action(
      async (path: string, options: { format: 'yolo' | 'imagefolder'; name?: string }, cmd: Command) => {
        const { out, client } = context(cmd);
        const vtp = await client();
        const bar = out.interactive ? bytesBar('uploading') : undefined;
        try {
          const dataset = await uploadDatasetFrom(vtp, path, {
            name: options.name ?? basename(path, extname(path)),
            format: options.format,
            onProgress: (p) => bar?.update(p.loaded, p.total),
          });
          bar?.stop();
          out.result(dataset, () => `Uploaded ${dataset.id}\n${describeDataset(out, dataset)}`);
        } finally {
          bar?.stop();
        }
      },
    );

  datasets
    .command('ls')
    .description('Your datasets, newest first')
    .option('--limit <n>', 'at most this many', positiveInt, 50)
    .action(async (options: { limit: number }, cmd: Command) => {
      const { out, client } = context(cmd);
      const items = await listDatasets(await client(), options.limit);
      out.result(items, () =>
        items.length === 0
          ? 'No datasets yet: vtp datasets upload <zip|folder> --format yolo|imagefolder'
          : out.table(
              ['ID', 'NAME', 'FORMAT', 'CLASSES', 'TRAIN/VAL/TEST', 'SIZE', 'CREATED'],
              items.map((d) => [
                d.id,
                d.name,
                d.format,
                String(d.classNames.length),
                `${d.imageCounts.train}/${d.imageCounts.val}/${d.imageCounts.test}`,
                formatBytes(d.bytes),
                d.createdAt,
              ]),
            ),
      );
    });

  datasets
    .command('show')
    .description('One dataset: classes, image counts, size')
    .argument('<dataset>', 'its id or name')
    .action(async (idOrName: string, _options: unknown, cmd: Command) => {
      const { out, client } = context(cmd);
      const dataset = await findDataset(await client(), idOrName);
      out.result(dataset, () => describeDataset(out, dataset));
    });

  datasets
    .command('rm')
    .description('Delete a dataset and its file (refused while an unfinished job uses it)')
    .argument('<dataset>', 'its id or name')
    .action(async (idOrName: string, _options: unknown, cmd: Command) => {
      const { out, client } = context(cmd);
      const vtp = await client();
      const dataset = await findDataset(vtp, idOrName);
      const { response, error } = await vtp.api.DELETE('/v1/datasets/{id}', {
        params: { path: { id: dataset.id } },
      });
      unwrap({ response, error });
      out.result({ deleted: dataset.id }, () => `Deleted ${dataset.id} (${dataset.name})`);
    });
}

function describeDataset(out: Output, d: Dataset): string {
  return out.table(
    ['FIELD', 'VALUE'],
    [
      ['id', d.id],
      ['name', d.name],
      ['format', d.format],
      ['classes', d.classNames.join(', ')],
      ['images', `train ${d.imageCounts.train}, val ${d.imageCounts.val}, test ${d.imageCounts.test}`],
      ['size', formatBytes(d.bytes)],
      ['sha256', d.sha256],
      ['created', d.createdAt],
    ],
  );
}
