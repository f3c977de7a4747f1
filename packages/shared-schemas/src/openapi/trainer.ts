import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { Health } from '../common.ts';
import { LogsQuery } from '../jobs.ts';
import {
  TrainerModelsResponseBody,
  TrainerReadiness,
  Training,
  TrainingIdParams,
  TrainingStartRequestBody,
} from '../trainer.ts';
import { WeightsCheckRequestBody, WeightsCheckResponseBody } from '../weights.ts';
import { z } from '../zod.ts';
import { json, problems } from './responses.ts';

export function buildTrainerDocument() {
  const r = new OpenAPIRegistry();
  r.registerComponent('securitySchemes', 'trainerToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'Shared token between the backend and its trainers (TRAINER_TOKEN)',
  });
  const security = [{ trainerToken: [] }];

  r.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    responses: { 200: json(Health, 'Alive') },
  });
  r.registerPath({
    method: 'get',
    path: '/readyz',
    summary:
      'Whether the Python runtime and the framework import, with versions; if not, the command that fixes it',
    responses: { 200: json(TrainerReadiness, 'Ready'), 503: json(TrainerReadiness, 'Not ready') },
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
    method: 'get',
    path: '/v1/models',
    summary: 'Models this trainer can train',
    security,
    responses: { 200: json(TrainerModelsResponseBody, 'The catalog'), ...problems(401) },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/trainings',
    summary: 'Start one training; repeating it for the same job id returns the existing training',
    security,
    request: { body: { content: { 'application/json': { schema: TrainingStartRequestBody } } } },
    responses: {
      202: json(Training, 'Started'),
      200: json(Training, 'Already known: the existing training'),
      ...problems(400, 401, 422, 503),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/trainings/{jobId}',
    summary: 'State of one training',
    security,
    request: { params: TrainingIdParams },
    responses: { 200: json(Training, 'The training'), ...problems(401, 404) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/trainings/{jobId}/logs',
    summary: "The training's log (the runner's stderr); with follow=true it streams until the training ends",
    security,
    request: { params: TrainingIdParams, query: LogsQuery },
    responses: {
      200: { description: 'The log as plain text', content: { 'text/plain': { schema: z.string() } } },
      ...problems(401, 404),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/trainings/{jobId}/cancel',
    summary: 'Cancel: SIGTERM to the runner, SIGKILL after a grace period; partial checkpoints kept',
    security,
    request: { params: TrainingIdParams },
    responses: {
      202: json(Training, 'Cancelling'),
      200: json(Training, 'Already finished'),
      ...problems(401, 404),
    },
  });
  r.registerPath({
    method: 'post',
    path: '/v1/weights-checks',
    summary:
      'Check an uploaded weights file: download it, load it with the framework in a sandboxed Python process (time and memory limits, no network), and compare it with the named model',
    security,
    request: { body: { content: { 'application/json': { schema: WeightsCheckRequestBody } } } },
    responses: {
      200: json(WeightsCheckResponseBody, 'The verdict: valid with what was found, or the problem'),
      ...problems(400, 401, 422, 502, 503),
    },
  });

  return new OpenApiGeneratorV31(r.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Trainer service API',
      version: '1.0.0',
      description:
        'One service per framework (ultralytics, timm): runs real trainings and reports to the backend.',
    },
  });
}
