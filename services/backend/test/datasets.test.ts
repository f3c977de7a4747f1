import { GetObjectCommand } from '@aws-sdk/client-s3';
import { generateYolo, zipBuffer } from '@vtp/sample-data';
import { createS3Client } from '@vtp/service-kit/s3';
import type { Dataset } from '@vtp/shared-schemas';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip, craftZip, imageFolderDataset, yoloDataset } from '../src/datasets/archive/testZips.ts';
import type { ApiClient } from './support/apiClient.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { type DatasetFields, sampleZip, upload, uploadSample } from './support/uploads.ts';

type ProblemBody = { code: string; issues?: { path: string; message: string }[] };

describe('datasets', () => {
  let t: TestBackend;
  let user: ApiClient;
  const objectKeys = () => t.objectKeys('datasets/');
  const rowCount = async () => {
    const db = knex({ client: 'pg', connection: t.database.url });
    const [{ count }] = (await db('datasets').count('* as count')) as [{ count: string }];
    await db.destroy();
    return Number(count);
  };

  beforeAll(async () => {
    t = await startTestBackend({ MAX_UPLOAD_BYTES: String(2 * 1024 * 1024) });
    user = await t.newUser();
  });
  afterAll(() => t?.stop());

  it('accepts a YOLO zip and records its classes, counts, size and sha256', async () => {
    const zip = await sampleZip('yolo');
    const res = await upload(user, { name: 'shapes', format: 'yolo' }, zip);
    expect(res.status).toBe(201);
    const dataset = res.body as Dataset;
    expect(dataset).toMatchObject({
      name: 'shapes',
      format: 'yolo',
      classNames: ['red', 'green', 'blue'],
      imageCounts: { train: 6, val: 3, test: 0 },
      bytes: zip.length,
    });
    const { createHash } = await import('node:crypto');
    expect(dataset.sha256).toBe(createHash('sha256').update(zip).digest('hex'));
    expect((await user.get(`/v1/datasets/${dataset.id}`)).body).toEqual(dataset);
  });

  it('accepts a zip that declares its size (streamed to storage in one request) and checks it the same', async () => {
    const zip = await sampleZip('imagefolder', 4);
    const res = await upload(user, { name: 'sized', format: 'imagefolder', size: String(zip.length) }, zip);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ bytes: zip.length, imageCounts: { train: 9, val: 6, test: 0 } });
    // The object holds the file, byte for byte.
    const [key] = (await t.objectKeys('datasets/')).filter((k) => k.includes((res.body as Dataset).id));
    const s3 = createS3Client({ ...t.s3, region: 'us-east-1', forcePathStyle: true });
    const object = await s3.send(new GetObjectCommand({ Bucket: t.env.BUCKET_NAME, Key: key }));
    expect(
      Buffer.from(
        await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      ),
    ).toEqual(zip);
    s3.destroy();
  });

  it('accepts a zip whose size field comes after it, when the size is true', async () => {
    const zip = await sampleZip('yolo', 5);
    const res = await upload(user, { name: 'sized late', format: 'yolo', lateSize: String(zip.length) }, zip);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ bytes: zip.length });
  });

  it('accepts an imagefolder zip', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    expect(dataset.classNames).toEqual(['blue', 'green', 'red']);
    expect(dataset.imageCounts).toEqual({ train: 9, val: 6, test: 0 });
  });

  it('pages through datasets newest first with a cursor', async () => {
    const other = await t.newUser();
    for (let i = 0; i < 3; i++) await uploadSample(other, 'imagefolder', `d${i}`);
    const first = await other.get<{ items: Dataset[]; nextCursor: string }>('/v1/datasets?limit=2');
    expect(first.body.items.map((d) => d.name)).toEqual(['d2', 'd1']);
    const second = await other.get<{ items: Dataset[]; nextCursor: string | null }>(
      `/v1/datasets?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((d) => d.name)).toEqual(['d0']);
    expect(second.body.nextCursor).toBeNull();
    expect((await other.get('/v1/datasets?cursor=garbage')).status).toBe(422);
  });

  describe('bad uploads get a 4xx problem naming the fault and leave nothing behind', () => {
    type Case = [string, () => Promise<{ fields: DatasetFields; zip?: Buffer }>, number, string, string?];
    /** A sample zip whose `size` field (sent before the file, or after it) is `off` bytes from its length. */
    const wrongSize = (label: string, field: 'size' | 'lateSize', off: number): Case => [
      label,
      async () => {
        const zip = await sampleZip('yolo');
        return { fields: { name: 'x', format: 'yolo', [field]: String(zip.length + off) }, zip };
      },
      422,
      'validation_failed',
      'body.file',
    ];
    const cases: Case[] = [
      [
        'a corrupt zip',
        async () => ({
          fields: { name: 'x', format: 'yolo' },
          zip: Buffer.from('definitely not a zip file at all'),
        }),
        422,
        'invalid_archive',
      ],
      [
        'a wrong structure',
        async () => ({ fields: { name: 'x', format: 'imagefolder' }, zip: await sampleZip('yolo') }),
        422,
        'invalid_dataset',
      ],
      [
        'labels out of range',
        async () => {
          const d = generateYolo({ seed: 3, trainImages: 4, valImages: 2 });
          const entries = d.entries.map((e) =>
            e.path === 'labels/train/train_0001.txt' ? { ...e, data: Buffer.from('7 0.5 0.5 0.2 0.2\n') } : e,
          );
          return { fields: { name: 'x', format: 'yolo' }, zip: await zipBuffer(entries) };
        },
        422,
        'invalid_dataset',
        'labels/train/train_0001.txt',
      ],
      [
        'a zip-slip entry',
        async () => ({
          fields: { name: 'x', format: 'yolo' },
          zip: craftZip([
            { name: 'data.yaml', data: 'names: [a]' },
            { name: '../evil.txt', data: 'x' },
          ]),
        }),
        422,
        'unsafe_archive',
        '../evil.txt',
      ],
      [
        'an absolute path',
        async () => ({
          fields: { name: 'x', format: 'yolo' },
          zip: craftZip([{ name: '/etc/passwd', data: 'root' }]),
        }),
        422,
        'unsafe_archive',
        '/etc/passwd',
      ],
      [
        'a zip bomb',
        async () => ({
          fields: { name: 'x', format: 'imagefolder' },
          zip: await buildZip({
            ...imageFolderDataset(),
            'train/cat/bomb.png': Buffer.alloc(16 * 1024 * 1024),
          }),
        }),
        422,
        'archive_too_large',
        'train/cat/bomb.png',
      ],
      [
        'a missing name',
        async () => ({ fields: { format: 'yolo' }, zip: await sampleZip('yolo') }),
        422,
        'validation_failed',
        'body.name',
      ],
      [
        'an unknown format',
        async () => ({ fields: { name: 'x', format: 'coco' }, zip: await sampleZip('yolo') }),
        422,
        'validation_failed',
        'body.format',
      ],
      [
        'no file',
        async () => ({ fields: { name: 'x', format: 'yolo' } }),
        422,
        'validation_failed',
        'body.file',
      ],
      [
        // PostgreSQL cannot store a NUL: the database's refusal is the request's fault, not the server's.
        'a class name PostgreSQL cannot store',
        async () => ({
          fields: { name: 'x', format: 'yolo' },
          zip: await buildZip(yoloDataset({ 'data.yaml': 'names: ["c\\0t", dog]\n' })),
        }),
        400,
        'unstorable_value',
      ],
      wrongSize(
        'a declared size past the file (the object request must not wait for bytes that never come)',
        'size',
        10,
      ),
      wrongSize('a declared size short of the file', 'size', -10),
      wrongSize(
        'a size sent after the file that is not its length (it is checked once the file is in)',
        'lateSize',
        1,
      ),
      [
        'a size that is not a byte count',
        async () => ({ fields: { name: 'x', format: 'yolo', size: '1e6' }, zip: await sampleZip('yolo') }),
        422,
        'validation_failed',
        'body.size',
      ],
      [
        'a declared size past the limit, refused before the file is read',
        async () => ({
          fields: { name: 'x', format: 'yolo', size: String(3 * 1024 * 1024) },
          zip: await sampleZip('yolo'),
        }),
        413,
        'upload_too_large',
      ],
      [
        'an oversize file',
        async () => ({ fields: { name: 'x', format: 'yolo' }, zip: Buffer.alloc(3 * 1024 * 1024, 7) }),
        413,
        'upload_too_large',
      ],
    ];
    it.each(cases)('%s', async (_label, make, status, code, path) => {
      const before = { objects: await objectKeys(), rows: await rowCount() };
      const { fields, zip } = await make();
      const res = await upload(user, fields, zip);
      expect(res.status).toBe(status);
      const body = res.body as ProblemBody;
      expect(body.code).toBe(code);
      if (path) expect(body.issues?.map((i) => i.path)).toContain(path);
      expect(await objectKeys()).toEqual(before.objects);
      expect(await rowCount()).toBe(before.rows);
    });

    const multipart = (parts: string) => ({
      body: parts.replaceAll('\n', '\r\n'),
      contentType: 'multipart/form-data; boundary=vtp-boundary',
    });
    const head = '--vtp-boundary\nContent-Disposition: form-data; name="name"\n\nx\n--vtp-boundary\n';
    it.each([
      [
        'ends inside the file, without its closing boundary',
        multipart(
          `${head}Content-Disposition: form-data; name="file"; filename="a.zip"\nContent-Type: application/zip\n\nPK\u0003\u0004 half a zip`,
        ),
      ],
      ['ends inside a part header', multipart(`${head}Content-Disposition: form-da`)],
      ['has no boundary at all', { body: 'whatever', contentType: 'multipart/form-data' }],
    ])('a multipart body that %s: 400, the backend lives on', async (_label, raw) => {
      const before = { objects: await objectKeys(), rows: await rowCount() };
      const res = await user.request<ProblemBody>('POST', '/v1/datasets', { raw });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('malformed_multipart');
      expect(await objectKeys()).toEqual(before.objects);
      expect(await rowCount()).toBe(before.rows);
      expect((await user.get('/v1/datasets')).status).toBe(200);
    });

    it('a JSON body instead of multipart', async () => {
      const res = await user.post<ProblemBody>('/v1/datasets', { name: 'x' });
      expect(res.status).toBe(415);
    });
  });

  it('another user can neither see nor delete a dataset (404, not 403)', async () => {
    const dataset = await uploadSample(user, 'yolo');
    const eve = await t.newUser('eve@example.com');
    expect((await eve.get(`/v1/datasets/${dataset.id}`)).status).toBe(404);
    expect((await eve.delete(`/v1/datasets/${dataset.id}`)).status).toBe(404);
    expect((await eve.get<{ items: unknown[] }>('/v1/datasets')).body.items).toEqual([]);
    expect((await user.get(`/v1/datasets/${dataset.id}`)).status).toBe(200);
  });

  it('deletes a dataset and its object; refuses while an unfinished job uses it', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const job = await user.post<{ id: string }>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: dataset.id,
    });
    expect(job.status).toBe(201);
    const refused = await user.delete<ProblemBody>(`/v1/datasets/${dataset.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('dataset_in_use');
    expect((await user.post(`/v1/jobs/${job.body.id}/cancel`)).status).toBe(202);
    expect((await user.delete(`/v1/datasets/${dataset.id}`)).status).toBe(204);
    // The finished job keeps pointing at the dataset it trained on.
    expect((await user.get<{ datasetId: string }>(`/v1/jobs/${job.body.id}`)).body.datasetId).toBe(
      dataset.id,
    );
  });

  it('deletes an unused dataset together with its object', async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    expect((await objectKeys()).some((k) => k?.includes(dataset.id))).toBe(true);
    expect((await user.delete(`/v1/datasets/${dataset.id}`)).status).toBe(204);
    expect((await user.get(`/v1/datasets/${dataset.id}`)).status).toBe(404);
    expect((await objectKeys()).some((k) => k?.includes(dataset.id))).toBe(false);
  });
});
