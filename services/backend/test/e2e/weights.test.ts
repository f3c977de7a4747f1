import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset, Job, Weights } from '@vtp/shared-schemas';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient, ApiResponse } from '../support/apiClient.ts';
import { startTestBackend, type TestBackend } from '../support/testBackend.ts';
import { finished, waitForJob } from '../support/training.ts';
import { uploadSample } from '../support/uploads.ts';
import { craftWeights } from '../support/weightsFiles.ts';

type ProblemBody = { code: string; detail: string; issues?: { path: string; message: string }[] };

/**
 * Uploaded starting weights end to end (EXECUTION_MODE=subprocess): the real backend streams them to the real S3
 * server, the real trainer services load them with the real frameworks in a sandboxed Python process, and jobs
 * fine-tune from them.
 */
describe('uploaded weights', () => {
  let t: TestBackend;
  let user: ApiClient;
  let dir: string;
  const file = (name: string) => readFile(join(dir, name));
  const rowCount = async () => {
    const db = knex({ client: 'pg', connection: t.database.url });
    const [{ count }] = (await db('weights').count('* as count')) as [{ count: string }];
    await db.destroy();
    return Number(count);
  };

  const uploadWeights = async (
    client: ApiClient,
    fields: { name?: string; framework?: string; model?: string; size?: string },
    name?: string,
  ): Promise<ApiResponse> => {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.set(key, value);
    if (name) form.set('file', new Blob([new Uint8Array(await file(name))]), name);
    return client.request('POST', '/v1/weights', { form });
  };
  /** `sized`: the form says the file's length first, as the client does, and the file goes to storage in one request. */
  const accepted = async (
    framework: string,
    model: string,
    name: string,
    sized = false,
  ): Promise<Weights> => {
    const size = sized ? String((await file(name)).length) : undefined;
    const res = await uploadWeights(user, { name, framework, model, size }, name);
    if (res.status !== 201) throw new Error(`upload of ${name} refused: ${res.status} ${res.text}`);
    return res.body as Weights;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-weights-test-'));
    await craftWeights(dir);
    t = await startTestBackend({ RUN_DISPATCHER: 'true', MONITOR_INTERVAL_MS: '500' });
    user = await t.newUser();
  }, 240_000);
  afterAll(async () => {
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts a YOLO .pt for its model, with what the check found; only its owner sees it', async () => {
    const bytes = await file('yolo11n.pt');
    const weights = await accepted('ultralytics', 'yolo11n', 'yolo11n.pt');
    const { createHash } = await import('node:crypto');
    expect(weights).toMatchObject({
      name: 'yolo11n.pt',
      framework: 'ultralytics',
      model: 'yolo11n',
      fileName: 'yolo11n.pt',
      format: 'pytorch',
      numClasses: 80,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(weights.classNames).toHaveLength(80);
    expect(weights.tensors).toBeGreaterThan(400);
    expect((await user.get(`/v1/weights/${weights.id}`)).body).toEqual(weights);
    const page = await user.get<{ items: Weights[] }>('/v1/weights');
    expect(page.body.items.map((w) => w.id)).toContain(weights.id);
    expect(await t.objectKeys('weights/')).toContain(
      `weights/${await userId(t, weights.id)}/${weights.id}/weights`,
    );

    const other = await t.newUser();
    expect((await other.get(`/v1/weights/${weights.id}`)).status).toBe(404);
    expect((await other.request('DELETE', `/v1/weights/${weights.id}`)).status).toBe(404);
    expect((await other.get<{ items: Weights[] }>('/v1/weights')).body.items).toEqual([]);
  }, 240_000);

  it.each([
    ['test_resnet.safetensors', 'safetensors', false],
    ['test_resnet.pth', 'pytorch', false],
    ['test_resnet.pth', 'pytorch', true],
  ])(
    'accepts a timm state dict as %s (%s; its size declared first: %s)',
    async (name, format, sized) => {
      const weights = await accepted('timm', 'test_resnet', name, sized);
      expect(weights).toMatchObject({ format, numClasses: 1000, classNames: null, model: 'test_resnet' });
      expect(weights.bytes).toBe((await file(name)).length);
    },
    240_000,
  );

  describe('refuses what does not load as the named model with 422 naming the problem, and keeps nothing', () => {
    it.each([
      ['junk', 'timm', 'test_resnet', 'junk.bin', /neither a PyTorch file/],
      ['a truncated file', 'ultralytics', 'yolo11n', 'truncated.pt', /not a readable PyTorch checkpoint/],
      ['another architecture', 'ultralytics', 'yolo11n', 'yolov8n.pt', /do not fit yolo11n: .*another shape/],
      ['another scale of the architecture', 'ultralytics', 'yolo11s', 'yolo11n.pt', /do not fit yolo11s/],
      ['another timm model', 'timm', 'test_resnet', 'test_efficientnet.pth', /do not fit test_resnet/],
      ['timm weights as Ultralytics', 'ultralytics', 'yolo11n', 'test_resnet.pth', /bare state dict/],
      [
        'a .safetensors file as Ultralytics',
        'ultralytics',
        'yolo11n',
        'test_resnet.safetensors',
        /safetensors/,
      ],
      ['YOLO weights as timm', 'timm', 'test_resnet', 'yolo11n.pt', /an Ultralytics checkpoint/],
      ['a pickle that runs a command', 'timm', 'test_resnet', 'payload.pt', /posix\.system/],
      ['the same pickle as Ultralytics', 'ultralytics', 'yolo11n', 'payload.pt', /posix\.system/],
    ])(
      '%s',
      async (_case, framework, model, name, problem) => {
        const rows = await rowCount();
        const res = await uploadWeights(user, { name, framework, model }, name);
        expect(res.status, res.text).toBe(422);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const body = res.body as ProblemBody;
        expect(body.code).toBe('invalid_weights');
        expect(body.issues?.[0]?.path).toBe('body.file');
        expect(body.issues?.[0]?.message).toMatch(problem);
        expect(await rowCount()).toBe(rows);
        expect((await t.objectKeys('weights/')).length).toBe(rows);
        expect(existsSync(join(dir, 'PAYLOAD_RAN'))).toBe(false);
      },
      240_000,
    );

    it.each([
      [
        'an unknown model',
        { name: 'w', framework: 'timm', model: 'resnet9000' },
        'test_resnet.pth',
        'body.model',
      ],
      [
        'an unknown framework',
        { name: 'w', framework: 'keras', model: 'x' },
        'test_resnet.pth',
        'body.framework',
      ],
      ['no file', { name: 'w', framework: 'timm', model: 'test_resnet' }, undefined, 'body.file'],
    ])('%s', async (_case, fields, name, path) => {
      const rows = await rowCount();
      const res = await uploadWeights(user, fields, name);
      expect(res.status, res.text).toBe(422);
      expect((res.body as ProblemBody).issues?.map((i) => i.path)).toContain(path);
      expect(await rowCount()).toBe(rows);
      expect((await t.objectKeys('weights/')).length).toBe(rows);
    });
  });

  describe('jobs start from them', () => {
    let images: Dataset;
    let yolo: Dataset;
    beforeAll(async () => {
      images = await uploadSample(user, 'imagefolder');
      yolo = await uploadSample(user, 'yolo');
    });

    it('only from ready weights of the same framework and model, of the same user', async () => {
      const weights = await accepted('timm', 'test_resnet', 'test_resnet.safetensors');
      const create = (client: ApiClient, body: Record<string, unknown>) =>
        client.post<ProblemBody>('/v1/jobs', {
          framework: 'timm',
          model: 'test_resnet',
          datasetId: images.id,
          initialWeights: { weightsId: weights.id },
          ...body,
        });
      const otherModel = await create(user, { model: 'test_efficientnet' });
      expect(otherModel.status).toBe(422);
      expect(otherModel.body.code).toBe('weights_mismatch');
      expect(otherModel.body.issues?.[0]?.path).toBe('body.initialWeights.weightsId');
      const otherFramework = await create(user, {
        framework: 'ultralytics',
        model: 'yolo11n',
        datasetId: yolo.id,
      });
      expect(otherFramework.body.code).toBe('weights_mismatch');
      const stranger = await t.newUser();
      const strangersDataset = await uploadSample(stranger, 'imagefolder');
      const notTheirs = await create(stranger, { datasetId: strangersDataset.id });
      expect(notTheirs.status).toBe(422);
      expect(notTheirs.body.code).toBe('weights_not_found');
    }, 240_000);

    it.each([
      ['timm', 'test_resnet', 'test_resnet.safetensors', () => images.id, 'loaded initial weights'],
      ['ultralytics', 'yolo11n', 'yolo11n.pt', () => yolo.id, 'Transferred'],
    ] as const)(
      '%s fine-tunes from an uploaded %s; the weights cannot be deleted while the job runs',
      async (framework, model, name, datasetId, logged) => {
        const weights = await accepted(framework, model, name);
        const created = await user.post<Job>('/v1/jobs', {
          framework,
          model,
          datasetId: datasetId(),
          initialWeights: { weightsId: weights.id },
          hyperparameters: { epochs: 1, imgsz: 64, batch: 4 },
        });
        expect(created.status, created.text).toBe(201);
        expect(created.body.initialWeights).toEqual({ weightsId: weights.id });
        const busy = await user.request('DELETE', `/v1/weights/${weights.id}`);
        expect(busy.status).toBe(409);
        expect((busy.body as ProblemBody).code).toBe('weights_in_use');

        const job = await waitForJob(user, created.body.id, finished, 240_000);
        expect(job.error).toBeNull();
        expect(job.status).toBe('succeeded');
        const log = (await user.get(`/v1/jobs/${job.id}/logs`)).text;
        expect(log).toContain('downloading initial weights');
        expect(log).toContain(logged);

        expect((await user.request('DELETE', `/v1/weights/${weights.id}`)).status).toBe(204);
        expect((await user.get(`/v1/weights/${weights.id}`)).status).toBe(404);
        expect(await t.objectKeys(`weights/`)).not.toContain(
          `weights/${await userId(t, weights.id)}/${weights.id}/weights`,
        );
      },
      300_000,
    );

    it('a job resumed after its weights were deleted continues from its own checkpoint', async () => {
      const weights = await accepted('timm', 'test_resnet', 'test_resnet.pth');
      const created = await user.post<Job>('/v1/jobs', {
        framework: 'timm',
        model: 'test_resnet',
        datasetId: images.id,
        initialWeights: { weightsId: weights.id },
        hyperparameters: { epochs: 500, imgsz: 64, batch: 2 },
        maxRetries: 0,
      });
      expect(created.status, created.text).toBe(201);
      const id = created.body.id;
      await waitForJob(user, id, (j) => j.progress.epoch >= 1, 240_000);
      await user.post(`/v1/jobs/${id}/cancel`);
      const cancelled = await waitForJob(user, id, finished, 120_000);
      expect(cancelled.status).toBe('cancelled');
      // The job has ended: its weights may go.
      expect((await user.request('DELETE', `/v1/weights/${weights.id}`)).status).toBe(204);

      expect((await user.post<Job>(`/v1/jobs/${id}/resume`)).status).toBe(202);
      const resumed = await waitForJob(
        user,
        id,
        (j) => finished(j) || (j.attempt === 2 && j.progress.epoch > cancelled.progress.epoch),
        240_000,
      );
      expect(resumed.error).toBeNull();
      expect(resumed.attempts[1]?.resumedFromEpoch).toEqual(expect.any(Number));
      await user.post(`/v1/jobs/${id}/cancel`);
      await waitForJob(user, id, finished, 120_000);
    }, 600_000);
  });
});

async function userId(t: TestBackend, weightsId: string): Promise<string> {
  const db = knex({ client: 'pg', connection: t.database.url });
  const row = (await db('weights').where({ id: weightsId }).first('user_id')) as { user_id: string };
  await db.destroy();
  return row.user_id;
}
