import { type ClientRequest, request } from 'node:http';
import { generateImagefolder, generateYolo, zipBuffer } from '@vtp/sample-data';
import type { Dataset } from '@vtp/shared-schemas';
import type { ApiClient, ApiResponse } from './apiClient.ts';

/**
 * Form fields of a dataset upload; `size` (the file's length, before it) as the client sends it, `lateSize` the
 * same field sent after the file, as a hand-written form may.
 */
export type DatasetFields = { name?: string; format?: string; size?: string; lateSize?: string };

export function datasetForm(fields: DatasetFields, zip?: Buffer, filename = 'data.zip'): FormData {
  const form = new FormData();
  if (fields.name !== undefined) form.set('name', fields.name);
  if (fields.format !== undefined) form.set('format', fields.format);
  if (fields.size !== undefined) form.set('size', fields.size);
  if (zip) form.set('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), filename);
  if (fields.lateSize !== undefined) form.set('size', fields.lateSize);
  return form;
}

export async function sampleZip(format: 'yolo' | 'imagefolder', seed = 1): Promise<Buffer> {
  const dataset =
    format === 'yolo'
      ? generateYolo({ seed, trainImages: 6, valImages: 3 })
      : generateImagefolder({ seed, trainPerClass: 3, valPerClass: 2 });
  return zipBuffer(dataset.entries);
}

export function upload(client: ApiClient, fields: DatasetFields, zip?: Buffer): Promise<ApiResponse> {
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

/**
 * A dataset upload as a raw HTTP request whose body the caller writes itself (in pieces, slowly, or not at
 * all): for tests of what the server does while a body is still arriving.
 */
export async function rawDatasetUpload(
  url: string,
  key: string,
): Promise<{ req: ClientRequest; body: Buffer }> {
  const form = datasetForm({ name: 'raw upload', format: 'imagefolder' }, await sampleZip('imagefolder'));
  const encoded = new Request(url, { method: 'POST', body: form });
  const body = Buffer.from(await encoded.arrayBuffer());
  const req = request(`${url}/v1/datasets`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': encoded.headers.get('content-type') ?? '',
      'content-length': body.length,
    },
  });
  return { req, body };
}
