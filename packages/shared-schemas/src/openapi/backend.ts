import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import {
  ApiKeyCreateRequestBody,
  ApiKeyCreateResponseBody,
  ApiKeyIdParams,
  ApiKeyListResponseBody,
} from '../apiKeys.ts';
import { Health, PageQuery, pageOf, UploadSize } from '../common.ts';
import { Dataset, DatasetIdParams } from '../datasets.ts';
import {
  CallbackBatchResponseBody,
  CallbackResponseBody,
  JobEvent,
  TrainerEvent,
  TrainerEventBatch,
} from '../events.ts';
import { DatasetFormat, Framework, ModelListResponseBody } from '../frameworks.ts';
import {
  ArtifactParams,
  Job,
  JobCreateRequestBody,
  JobEventsQuery,
  JobExportRequestBody,
  JobIdParams,
  JobListQuery,
  LogsQuery,
} from '../jobs.ts';
import { BackendReadiness } from '../readiness.ts';
import { StorageUrlRequestBody, StorageUrlResponseBody } from '../storage.ts';
import { Weights, WeightsIdParams } from '../weights.ts';
import { z } from '../zod.ts';
import { bearerAuth, json, problems } from './responses.ts';

/** Every API route also answers 503 (with Retry-After) while its database is unavailable. */
const apiProblems = (...statuses: number[]) => problems(...statuses, 503);

export const DatasetPage = pageOf(Dataset, 'DatasetPage');
export const JobPage = pageOf(Job, 'JobPage');
export const WeightsPage = pageOf(Weights, 'WeightsPage');
export const JobEventList = z.object({ items: z.array(JobEvent) }).openapi('JobEventList');

export function buildBackendDocument() {
  const r = new OpenAPIRegistry();
  r.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'API key',
  });
  r.registerComponent('securitySchemes', 'callbackToken', {
    type: 'http',
    scheme: 'bearer',
    description: "The job's own callback token, handed to its trainer",
  });

  r.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    responses: { 200: json(Health, 'Alive') },
  });
  r.registerPath({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: database and object storage reachable',
    responses: { 200: json(BackendReadiness, 'Ready'), 503: json(BackendReadiness, 'Not ready') },
  });
  r.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    responses: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
    },
  });

  r.registerPath({
    method: 'post',
    path: '/v1/api-keys',
    summary: "Create a user's API key (admin only); the key is returned once",
    security: bearerAuth,
    request: { body: { content: { 'application/json': { schema: ApiKeyCreateRequestBody } } } },
    responses: { 201: json(ApiKeyCreateResponseBody, 'Created'), ...apiProblems(400, 401, 403, 409, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/api-keys',
    summary: "The caller's own API keys (every user's for the admin), without their secrets",
    security: bearerAuth,
    responses: { 200: json(ApiKeyListResponseBody, 'The keys'), ...apiProblems(401) },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/api-keys/{id}',
    summary: 'Revoke an API key at once (your own; the admin may revoke any but the configured admin key)',
    security: bearerAuth,
    request: { params: ApiKeyIdParams },
    responses: { 204: { description: 'Revoked' }, ...apiProblems(401, 404, 409, 422) },
  });

  r.registerPath({
    method: 'post',
    path: '/v1/datasets',
    summary: 'Upload a dataset (.zip), streamed to object storage and checked before it is accepted',
    security: bearerAuth,
    request: {
      body: {
        content: {
          'multipart/form-data': {
            schema: z.object({
              name: z.string(),
              format: DatasetFormat,
              size: UploadSize.optional(),
              file: z
                .string()
                .openapi({ type: 'string', format: 'binary', description: 'The dataset as a .zip' }),
            }),
          },
        },
      },
    },
    responses: { 201: json(Dataset, 'Accepted'), ...apiProblems(400, 401, 409, 413, 415, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/datasets',
    summary: 'List your datasets, newest first',
    security: bearerAuth,
    request: { query: PageQuery },
    responses: { 200: json(DatasetPage, 'A page of datasets'), ...apiProblems(401, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/datasets/{id}',
    summary: 'One dataset',
    security: bearerAuth,
    request: { params: DatasetIdParams },
    responses: { 200: json(Dataset, 'The dataset'), ...apiProblems(401, 404, 422) },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/datasets/{id}',
    summary: 'Delete a dataset and its file (refused while an unfinished job uses it)',
    security: bearerAuth,
    request: { params: DatasetIdParams },
    responses: { 204: { description: 'Deleted' }, ...apiProblems(401, 404, 409, 422) },
  });

  r.registerPath({
    method: 'post',
    path: '/v1/weights',
    summary:
      'Upload starting weights (a YOLO .pt, a timm state dict as .safetensors or .pth), checked by loading them with the framework before they are accepted',
    security: bearerAuth,
    request: {
      body: {
        content: {
          'multipart/form-data': {
            schema: z.object({
              name: z.string(),
              framework: Framework,
              model: z.string().openapi({ description: 'The catalog model the weights are for' }),
              size: UploadSize.optional(),
              file: z.string().openapi({ type: 'string', format: 'binary', description: 'The weights file' }),
            }),
          },
        },
      },
    },
    responses: { 201: json(Weights, 'Accepted'), ...apiProblems(400, 401, 409, 413, 415, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/weights',
    summary: 'List your uploaded weights, newest first',
    security: bearerAuth,
    request: { query: PageQuery },
    responses: { 200: json(WeightsPage, 'A page of weights'), ...apiProblems(401, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/weights/{id}',
    summary: 'One uploaded weights file',
    security: bearerAuth,
    request: { params: WeightsIdParams },
    responses: { 200: json(Weights, 'The weights'), ...apiProblems(401, 404, 422) },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/weights/{id}',
    summary: 'Delete uploaded weights and their file (refused while an unfinished job starts from them)',
    security: bearerAuth,
    request: { params: WeightsIdParams },
    responses: { 204: { description: 'Deleted' }, ...apiProblems(401, 404, 409, 422) },
  });

  r.registerPath({
    method: 'get',
    path: '/v1/models',
    summary:
      'Models each framework can train (from scratch, or from weights you uploaded; none needs weights from the internet)',
    security: bearerAuth,
    responses: { 200: json(ModelListResponseBody, 'The catalog'), ...apiProblems(401) },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/jobs',
    summary: 'Create a training job',
    security: bearerAuth,
    request: {
      headers: z.object({
        'Idempotency-Key': z
          .string()
          .max(200)
          .optional()
          .openapi({ description: 'A retried create with the same key returns the same job' }),
      }),
      body: { content: { 'application/json': { schema: JobCreateRequestBody } } },
    },
    responses: {
      201: json(Job, 'Created'),
      200: json(Job, 'The job an earlier request with this Idempotency-Key created'),
      ...apiProblems(400, 401, 409, 422, 429),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/jobs',
    summary: 'List your jobs, newest first',
    security: bearerAuth,
    request: { query: JobListQuery },
    responses: { 200: json(JobPage, 'A page of jobs'), ...apiProblems(401, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}',
    summary: 'One job: status, progress, latest metrics, artifacts, error',
    security: bearerAuth,
    request: { params: JobIdParams },
    responses: { 200: json(Job, 'The job'), ...apiProblems(401, 404, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}/events',
    summary: "A job's events; with `Accept: text/event-stream`, a live stream that ends when the job ends",
    security: bearerAuth,
    request: { params: JobIdParams, query: JobEventsQuery },
    responses: {
      200: {
        description:
          'Event history, or a Server-Sent Events stream (`event: <type>`, `id: <seq>`, `data: <JobEvent>`)',
        content: {
          'application/json': { schema: JobEventList },
          'text/event-stream': { schema: z.string() },
        },
      },
      ...apiProblems(401, 404, 422, 429),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}/logs',
    summary:
      "The training's log: live from its trainer or pod while it runs, from object storage once it ended",
    security: bearerAuth,
    request: { params: JobIdParams, query: LogsQuery },
    responses: {
      200: { description: 'The log as plain text', content: { 'text/plain': { schema: z.string() } } },
      ...apiProblems(401, 404, 422, 429),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}/artifacts/{kind}',
    summary: "Download one of a job's artifacts (a checkpoint, its metrics, its log) as stored",
    security: bearerAuth,
    request: { params: ArtifactParams },
    responses: {
      200: {
        description:
          'The file; `Content-Disposition` names it, `X-Checksum-Sha256` carries its sha256 when it was recorded',
        content: {
          'application/octet-stream': { schema: z.string().openapi({ type: 'string', format: 'binary' }) },
        },
      },
      ...apiProblems(401, 404, 422),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/jobs/{id}/cancel',
    summary: 'Cancel a job; a finished job is returned unchanged',
    security: bearerAuth,
    request: { params: JobIdParams },
    responses: {
      202: json(Job, 'Cancellation accepted'),
      200: json(Job, 'Already finished'),
      ...apiProblems(401, 404, 422),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/jobs/{id}/exports',
    summary:
      "Export a succeeded training job's best checkpoint: queues an export job of its own (kind `export`), whose artifact of the format's kind is the exported file",
    security: bearerAuth,
    request: {
      params: JobIdParams,
      body: { content: { 'application/json': { schema: JobExportRequestBody } } },
    },
    responses: {
      202: json(Job, 'The export job, queued'),
      ...apiProblems(400, 401, 404, 409, 422, 429),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/jobs/{id}/resume',
    summary:
      'Continue a failed or cancelled job from its last checkpoint, as its next attempt; a job still queued or running is returned unchanged',
    security: bearerAuth,
    request: { params: JobIdParams },
    responses: {
      202: json(Job, 'The next attempt is queued'),
      200: json(Job, 'The job has not ended: nothing to do'),
      ...apiProblems(401, 404, 409, 422, 429),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/jobs/{id}/callback',
    summary:
      "Trainer -> backend events, one or a batch in seq order (stored in one transaction), authenticated by the job's callback token",
    security: [{ callbackToken: [] }],
    request: {
      params: JobIdParams,
      body: { content: { 'application/json': { schema: z.union([TrainerEvent, TrainerEventBatch]) } } },
    },
    responses: {
      200: json(
        z.union([CallbackResponseBody, CallbackBatchResponseBody]),
        'Stored, or acknowledged as a duplicate (a batch: the result of each event)',
      ),
      ...apiProblems(400, 401, 422),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/jobs/{id}/storage-urls',
    summary:
      "A presigned URL to one of the job's inputs or outputs, for its trainer; authenticated by the job's callback token",
    security: [{ callbackToken: [] }],
    request: {
      params: JobIdParams,
      body: { content: { 'application/json': { schema: StorageUrlRequestBody } } },
    },
    responses: {
      200: json(StorageUrlResponseBody, 'A URL for that one object and method, valid for a few minutes'),
      ...apiProblems(400, 401, 403, 422),
    },
  });

  return new OpenApiGeneratorV31(r.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Vision training platform API',
      version: '1.0.0',
      description:
        'Upload image datasets, train Ultralytics YOLO and timm models, follow progress, collect checkpoints.',
    },
    servers: [{ url: '/' }],
  });
}
