import { generateImagefolder, generateYolo, zipBuffer } from '@vtp/sample-data';
import type { Dataset } from '@vtp/shared-schemas';
import type { ApiClient, ApiResponse } from './apiClient.ts';

export function datasetForm(
  fields: { name?: string; format?: string },
  zip?: Buffer,
  filename = 'data.zip',
): FormData {
  const form = new FormData();
  if (fields.name !== undefined) form.set('name', fields.name);
  if (fields.format !== undefined) form.set('format', fields.format);
  if (zip) form.set('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), filename);
  return form;
}

export async function sampleZip(format: 'yolo' | 'imagefolder', seed = 1): Promise<Buffer> {
  const dataset =
    format === 'yolo'
      ? generateYolo({ seed, trainImages: 6, valImages: 3 })
      : generateImagefolder({ seed, trainPerClass: 3, valPerClass: 2 });
  return zipBuffer(dataset.entries);
}

export function upload(
  client: ApiClient,
  fields: { name?: string; format?: string },
  zip?: Buffer,
): Promise<ApiResponse> {
  return client.request('POST', '/v1/datasets', { form: datasetForm(fields, zip) });
}

export async function uploadSample(
  client: ApiClient,
  format: 'yolo' | 'imagefolder',
  name = `${format} sample`,
): Promise<Dataset> {
  const res = await upload(client, { name, format }, await sampleZip(format));
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${res.text}`);
  return res.body as Dataset;
}
