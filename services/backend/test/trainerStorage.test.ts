import { randomUUID } from 'node:crypto';
import type { Dataset, Job, StorageUrlResponseBody } from '@vtp/shared-schemas';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from './support/apiClient.ts';
import { dispatchByHand } from './support/dispatchByHand.ts';
import { createJob as createJobFor, reportEvent } from './support/jobs.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { uploadSample } from './support/uploads.ts';

type ProblemBody = { code: string; issues?: { path: string }[] };

/**
 * Trainers hold no storage credentials: with their job's callback token they get one presigned URL per object,
 * for their job's inputs and their attempt's outputs only, and the object store enforces what was signed.
 */
describe('storage URLs for trainers', () => {
  let t: TestBackend;
  let user: ApiClient;
  let other: ApiClient;
  let yolo: Dataset;
  let othersDataset: Dataset;

  beforeAll(async () => {
    t = await startTestBackend();
    user = await t.newUser();
    other = await t.newUser();
    yolo = await uploadSample(user, 'yolo');
    othersDataset = await uploadSample(other, 'yolo');
  });
  afterAll(() => t?.stop());

  const datasetUri = async (dataset: Dataset) => {
    const [key] = (await t.objectKeys('datasets/')).filter((k) => k.includes(dataset.id));
    return `s3://vtp-test/${key}`;
  };
  const createJob = (body: Record<string, unknown> = {}) => createJobFor(user, yolo.id, body);
  const ask = (jobId: string, token: string | undefined, body: unknown) =>
    t.anonymous.post<StorageUrlResponseBody & ProblemBody>(
      `/v1/jobs/${jobId}/storage-urls`,
      body,
      token ? { key: token } : {},
    );
  const callback = (jobId: string, token: string, event: Record<string, unknown>) =>
    reportEvent(t.anonymous, jobId, token, event);

  it("reads the job's dataset and writes below its output folder, through URLs the object store holds to what was signed", async () => {
    const job = await createJob();
    const token = await dispatchByHand(t.database.url, job.id);

    const read = await ask(job.id, token, { method: 'GET', uri: await datasetUri(yolo) });
    expect(read.status).toBe(200);
    expect(Date.parse(read.body.expiresAt) - Date.now()).toBeGreaterThan(10 * 60_000);
    const zip = await fetch(read.body.url);
    expect(zip.status).toBe(200);
    expect((await zip.arrayBuffer()).byteLength).toBeGreaterThan(100);

    const write = await ask(job.id, token, { method: 'PUT', name: 'weights/epoch-1/last.pt', bytes: 5 });
    expect(write.status).toBe(200);
    expect(write.body.uri).toBe(`s3://vtp-test/jobs/${job.id}/weights/epoch-1/last.pt`);
    // The length is signed: another body size is refused, and nothing is stored.
    expect((await fetch(write.body.url, { method: 'PUT', body: 'sixsix' })).status).toBe(403);
    expect(await t.objectKeys(`jobs/${job.id}/`)).toEqual([]);
    // So is the key: the URL cannot be bent to another object.
    const bent = write.body.url.replace('/weights/epoch-1/last.pt', '/weights/epoch-1/best.pt');
    expect((await fetch(bent, { method: 'PUT', body: 'five!' })).status).toBe(403);
    expect((await fetch(write.body.url, { method: 'PUT', body: 'five!' })).status).toBe(200);
    expect(await t.objectKeys(`jobs/${job.id}/`)).toEqual([`jobs/${job.id}/weights/epoch-1/last.pt`]);
  });

  it("refuses any object that is not the job's own: another user's dataset, another job, another bucket (403)", async () => {
    const job = await createJob();
    const token = await dispatchByHand(t.database.url, job.id);
    const neighbour = await createJob();
    for (const uri of [
      await datasetUri(othersDataset),
      `s3://vtp-test/jobs/${neighbour.id}/weights/last.pt`,
      `s3://another-bucket/jobs/${job.id}/weights/last.pt`,
      `s3://vtp-test/datasets/${yolo.id}`,
    ]) {
      const res = await ask(job.id, token, { method: 'GET', uri });
      expect(res.status, uri).toBe(403);
      expect(res.body.code).toBe('outside_job_storage');
    }
  });

  it('refuses output names that climb out of the output folder or into another attempt (422 naming the field)', async () => {
    const job = await createJob();
    const token = await dispatchByHand(t.database.url, job.id);
    for (const name of [
      '../x.pt',
      '/abs.pt',
      'weights/../../x',
      'attempts/2/last.pt',
      '.hidden',
      'a//b',
      '',
    ]) {
      const res = await ask(job.id, token, { method: 'PUT', name, bytes: 1 });
      expect(res.status, name).toBe(422);
      expect(res.body.issues?.map((i) => i.path)).toEqual(['body.name']);
    }
    const huge = await ask(job.id, token, { method: 'PUT', name: 'big.pt', bytes: 6 * 1024 ** 3 });
    expect(huge.status).toBe(422);
    expect(huge.body.issues?.map((i) => i.path)).toEqual(['body.bytes']);
  });

  it('answers 401 before anything else without a valid token, and once the job has ended', async () => {
    const job = await createJob();
    const token = await dispatchByHand(t.database.url, job.id);
    expect((await ask(job.id, undefined, { method: 'GET', uri: 'x' })).status).toBe(401);
    // A wrong token learns nothing of the schema.
    expect((await ask(job.id, 'vtpcb_not-the-token-0123456789', { nonsense: true })).status).toBe(401);
    const neighbour = await createJob();
    expect((await ask(neighbour.id, token, { method: 'PUT', name: 'a.pt', bytes: 1 })).status).toBe(401);
    await callback(job.id, token, { seq: 1, type: 'completed', metrics: {}, artifacts: [] });
    expect((await ask(job.id, token, { method: 'PUT', name: 'late.pt', bytes: 1 })).status).toBe(401);
  });

  it("a later attempt writes below its own folder and reads the earlier attempt's checkpoints; a job started from another's weights reads those", async () => {
    const job = await createJob({ hyperparameters: { epochs: 3 } });
    const first = await dispatchByHand(t.database.url, job.id);
    const checkpointUri = `s3://vtp-test/jobs/${job.id}/weights/epoch-1/last.pt`;
    await callback(job.id, first, {
      seq: 1,
      type: 'checkpoint',
      epoch: 1,
      artifacts: [{ kind: 'last', uri: checkpointUri, bytes: 5, epoch: 1 }],
    });
    await callback(job.id, first, { seq: 2, type: 'failed', error: { code: 'lost', message: 'gone' } });
    expect((await user.get<Job>(`/v1/jobs/${job.id}`)).body).toMatchObject({ status: 'queued', attempt: 2 });

    const second = await dispatchByHand(t.database.url, job.id);
    expect((await ask(job.id, first, { method: 'GET', uri: checkpointUri })).status).toBe(401);
    expect((await ask(job.id, second, { method: 'GET', uri: checkpointUri })).status).toBe(200);
    const write = await ask(job.id, second, { method: 'PUT', name: 'weights/epoch-2/last.pt', bytes: 1 });
    expect(write.body.uri).toBe(`s3://vtp-test/jobs/${job.id}/attempts/2/weights/epoch-2/last.pt`);

    const fineTune = await createJob({ initialWeights: { jobId: job.id, checkpoint: 'last' } });
    const token = await dispatchByHand(t.database.url, fineTune.id);
    expect((await ask(fineTune.id, token, { method: 'GET', uri: checkpointUri })).status).toBe(200);
    // Only that checkpoint, not the rest of the source job's folder.
    const log = `s3://vtp-test/jobs/${job.id}/training.log`;
    expect((await ask(fineTune.id, token, { method: 'GET', uri: log })).status).toBe(403);
  });

  it('a job started from uploaded weights reads that one object; no other job does', async () => {
    // The row as an accepted upload leaves it (the upload's own check is covered in e2e/weights.test.ts).
    const weightsId = randomUUID();
    const objectKey = `weights/${await userIdOf(yolo.id)}/${weightsId}/weights`;
    const db = knex({ client: 'pg', connection: t.database.url });
    await db('weights').insert({
      id: weightsId,
      user_id: await userIdOf(yolo.id),
      name: 'pretrained',
      framework: 'ultralytics',
      model: 'yolo11n',
      file_name: 'yolo11n.pt',
      format: 'pytorch',
      num_classes: 80,
      tensors: 499,
      bytes: 5,
      sha256: '0'.repeat(64),
      object_key: objectKey,
    });
    await db.destroy();
    const uri = `s3://vtp-test/${objectKey}`;
    const fineTune = await createJob({ initialWeights: { weightsId } });
    const token = await dispatchByHand(t.database.url, fineTune.id);
    expect((await ask(fineTune.id, token, { method: 'GET', uri })).status).toBe(200);
    const neighbour = await createJob();
    const neighbourToken = await dispatchByHand(t.database.url, neighbour.id);
    const refused = await ask(neighbour.id, neighbourToken, { method: 'GET', uri });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('outside_job_storage');
    // Another user cannot name them at all.
    const res = await other.post<ProblemBody>('/v1/jobs', {
      framework: 'ultralytics',
      model: 'yolo11n',
      datasetId: othersDataset.id,
      initialWeights: { weightsId },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('weights_not_found');
  });

  const userIdOf = async (datasetId: string): Promise<string> => {
    const db = knex({ client: 'pg', connection: t.database.url });
    const row = (await db('datasets').where({ id: datasetId }).first('user_id')) as { user_id: string };
    await db.destroy();
    return row.user_id;
  };
});
