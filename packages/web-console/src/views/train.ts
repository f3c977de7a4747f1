import type { DatasetFormat, Framework, JobCreateRequestBody } from '@vtp/client';
import { clear, h } from '../dom.ts';
import { href } from '../route.ts';
import type { View } from './view.ts';

const FORMAT: Record<Framework, DatasetFormat> = { ultralytics: 'yolo', timm: 'imagefolder' };

function field(id: string, label: string, input: HTMLElement): HTMLElement {
  return h('div', {}, h('label', { for: id }, label), input);
}

/** Starts a training: a model of the catalogue on one of the user's datasets in that model's format. */
export const trainView =
  (datasetId: string | undefined): View =>
  async ({ api, main }) => {
    const [{ items: models }, { items: datasets }] = await Promise.all([api.models(), api.datasets()]);
    const preset = datasets.find((d) => d.id === datasetId);
    const framework = h(
      'select',
      { id: 'train-framework' },
      h('option', { value: 'ultralytics' }, 'Ultralytics YOLO (detection)'),
      h('option', { value: 'timm' }, 'timm (classification)'),
    );
    if (preset) framework.value = preset.format === 'yolo' ? 'ultralytics' : 'timm';
    const model = h('select', { id: 'train-model', required: true });
    const dataset = h('select', { id: 'train-dataset', required: true });
    const epochs = h('input', {
      id: 'train-epochs',
      type: 'number',
      min: 1,
      max: 1000,
      value: 10,
      required: true,
    });
    const imgsz = h('input', {
      id: 'train-imgsz',
      type: 'number',
      min: 32,
      max: 1024,
      value: 64,
      required: true,
    });
    const batch = h('input', {
      id: 'train-batch',
      type: 'number',
      min: 1,
      max: 1024,
      value: 8,
      required: true,
    });
    const error = h('p', { class: 'error', role: 'alert' });
    const fill = () => {
      const chosen = framework.value as Framework;
      clear(
        model,
        ...models.filter((m) => m.framework === chosen).map((m) => h('option', { value: m.name }, m.name)),
      );
      const usable = datasets.filter((d) => d.format === FORMAT[chosen]);
      clear(dataset, ...usable.map((d) => h('option', { value: d.id }, `${d.name} (${d.id.slice(0, 8)})`)));
      if (preset && usable.includes(preset)) dataset.value = preset.id;
      if (!usable.length) error.textContent = `No ${FORMAT[chosen]} dataset yet: upload one first.`;
      else error.textContent = '';
    };
    framework.addEventListener('change', fill);
    fill();
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Start training');
    const form = h(
      'form',
      { class: 'card', 'aria-labelledby': 'train-title' },
      h('h1', { id: 'train-title' }, 'New training'),
      h(
        'div',
        { class: 'fields' },
        field('train-framework', 'Framework', framework),
        field('train-model', 'Model', model),
        field('train-dataset', 'Dataset', dataset),
        field('train-epochs', 'Epochs', epochs),
        field('train-imgsz', 'Image size', imgsz),
        field('train-batch', 'Batch size', batch),
      ),
      submit,
      error,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      error.textContent = '';
      try {
        const job = await api.createJob({
          framework: framework.value,
          model: model.value,
          datasetId: dataset.value,
          hyperparameters: {
            epochs: epochs.valueAsNumber,
            imgsz: imgsz.valueAsNumber,
            batch: batch.valueAsNumber,
          },
        } as JobCreateRequestBody);
        location.hash = href.job(job.id);
      } catch (err) {
        error.textContent = (err as Error).message;
        submit.disabled = false;
      }
    });
    clear(main, form);
  };
