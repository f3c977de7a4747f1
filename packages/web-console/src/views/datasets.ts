import type { Dataset, DatasetFormat } from '@vtp/client';
import { clear, formatBytes, formatTime, h, toast } from '../dom.ts';
import { href } from '../route.ts';
import type { View } from './view.ts';

const total = (d: Dataset) => d.imageCounts.train + d.imageCounts.val + d.imageCounts.test;

export const datasetsView: View = async ({ api, main }) => {
  const rows = h('tbody');
  const table = h(
    'table',
    { 'aria-label': 'Datasets' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Name', 'Format', 'Classes', 'Images', 'Size', 'Uploaded'].map((c) =>
          h('th', { scope: 'col' }, c),
        ),
      ),
    ),
    rows,
  );
  const refresh = async () => {
    const { items } = await api.datasets();
    clear(
      rows,
      ...items.map((d) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: href.dataset(d.id) }, d.name)),
          h('td', {}, d.format),
          h('td', {}, d.classNames.length),
          h('td', {}, total(d)),
          h('td', {}, formatBytes(d.bytes)),
          h('td', {}, formatTime(d.createdAt)),
        ),
      ),
    );
    if (!items.length)
      clear(rows, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No datasets yet: upload one above.')));
  };

  const name = h('input', { id: 'dataset-name', name: 'name', required: true, maxlength: 200 });
  const format = h(
    'select',
    { id: 'dataset-format', name: 'format' },
    h('option', { value: 'yolo' }, 'YOLO (detection)'),
    h('option', { value: 'imagefolder' }, 'imagefolder (classification)'),
  );
  const file = h('input', {
    id: 'dataset-file',
    name: 'file',
    type: 'file',
    accept: '.zip,application/zip',
    required: true,
  });
  const progress = h('progress', {
    id: 'upload-progress',
    max: 1,
    value: 0,
    hidden: true,
    'aria-label': 'Upload progress',
  });
  const status = h('p', { class: 'muted', role: 'status' });
  const submit = h('button', { type: 'submit' }, 'Upload');
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen && !name.value) name.value = chosen.name.replace(/\.zip$/i, '');
  });
  const form = h(
    'form',
    { class: 'card upload', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Upload a dataset'),
    h(
      'p',
      { class: 'muted' },
      'A .zip in YOLO layout (data.yaml, images/, labels/) or imagefolder layout (train/<class>/, val/<class>/).',
    ),
    h(
      'div',
      { class: 'fields' },
      h('div', {}, h('label', { for: 'dataset-file' }, 'Zip file'), file),
      h('div', {}, h('label', { for: 'dataset-name' }, 'Name'), name),
      h('div', {}, h('label', { for: 'dataset-format' }, 'Format'), format),
    ),
    submit,
    progress,
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    submit.disabled = true;
    progress.hidden = false;
    status.className = 'muted';
    try {
      const dataset = await api.uploadDataset(
        chosen,
        { name: name.value.trim(), format: format.value as DatasetFormat },
        (sent, size) => {
          progress.value = size ? sent / size : 0;
          status.textContent =
            size > sent ? `Uploading… ${formatBytes(sent)} of ${formatBytes(size)}` : 'Checking the dataset…';
        },
      );
      status.textContent = `Uploaded ${dataset.name}: ${total(dataset)} images, ${dataset.classNames.length} classes.`;
      toast(`Dataset ${dataset.name} uploaded`);
      form.reset();
      await refresh();
    } catch (err) {
      status.className = 'error';
      status.textContent = `Upload refused: ${(err as Error).message}`;
    } finally {
      submit.disabled = false;
      progress.hidden = true;
    }
  });

  await refresh();
  clear(main, h('h1', {}, 'Datasets'), form, h('div', { class: 'scroll' }, table));
};

export const datasetView =
  (id: string): View =>
  async ({ api, main }) => {
    const d = await api.dataset(id);
    clear(
      main,
      h('p', {}, h('a', { href: '#/datasets' }, '← Datasets')),
      h('h1', {}, d.name),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Format'),
        h('dd', {}, d.format),
        h('dt', {}, 'Size'),
        h('dd', {}, formatBytes(d.bytes)),
        h('dt', {}, 'Uploaded'),
        h('dd', {}, formatTime(d.createdAt)),
        h('dt', {}, 'sha256'),
        h('dd', { class: 'mono' }, d.sha256),
        h('dt', {}, 'Id'),
        h('dd', { class: 'mono' }, d.id),
      ),
      h('h2', {}, 'Images'),
      h(
        'table',
        { 'aria-label': 'Image counts' },
        h('thead', {}, h('tr', {}, ...['Split', 'Images'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          ...(['train', 'val', 'test'] as const).map((split) =>
            h('tr', {}, h('td', {}, split), h('td', {}, d.imageCounts[split])),
          ),
        ),
      ),
      h('h2', {}, `Classes (${d.classNames.length})`),
      h('ul', { class: 'classes' }, ...d.classNames.map((c) => h('li', {}, c))),
      h('p', {}, h('a', { class: 'button', href: href.train(d.id) }, 'Train on this dataset')),
    );
  };
