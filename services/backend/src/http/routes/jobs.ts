import { pipeline } from 'node:stream/promises';
import { annotateActiveSpan, jobSpanAttributes, parseInput } from '@vtp/service-kit';
import {
  ArtifactParams,
  Framework,
  JobCreateRequestBody,
  JobEventsQuery,
  JobExportRequestBody,
  JobIdParams,
  JobListQuery,
  LogsQuery,
  type ModelListResponseBody,
  modelCatalog,
} from '@vtp/shared-schemas';
import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '../../auth/principal.ts';
import type { JobEventNotifier } from '../../jobs/eventNotifier.ts';
import { streamJobEvents } from '../../jobs/eventStream.ts';
import type { JobArtifacts } from '../../jobs/jobArtifacts.ts';
import type { JobEventStore } from '../../jobs/jobEventStore.ts';
import type { JobLogs } from '../../jobs/jobLogs.ts';
import type { JobService } from '../../jobs/jobService.ts';
import type { JobStore } from '../../jobs/jobStore.ts';
import type { StreamSlots } from '../../jobs/streamSlots.ts';

const IdempotencyKey = z.string().min(1).max(200).optional();

export function jobRoutes(
  jobs: JobService,
  logs: JobLogs,
  artifacts: JobArtifacts,
  eventSources: { jobs: JobStore; events: JobEventStore },
  notifier: JobEventNotifier,
  stopping: AbortSignal,
  streams: StreamSlots,
): Router {
  const router = Router();
  router.get('/v1/models', (_req, res) => {
    const body: ModelListResponseBody = {
      items: Framework.options.flatMap((framework) =>
        modelCatalog[framework].map((m) => ({ framework, ...m })),
      ),
    };
    res.json(body);
  });
  router.post('/v1/jobs', async (req, res) => {
    const idempotencyKey = parseInput(IdempotencyKey, req.get('idempotency-key'), 'header.Idempotency-Key');
    const body = parseInput(JobCreateRequestBody, req.body, 'body');
    const { job, created } = await jobs.create(principalOf(res), body, idempotencyKey);
    // This request's span is the root of the job's trace (the job keeps its context for every attempt).
    annotateActiveSpan(jobSpanAttributes({ jobId: job.id, framework: job.framework, model: job.model }));
    res
      .status(created ? 201 : 200)
      .location(`/v1/jobs/${job.id}`)
      .json(job);
  });
  router.get('/v1/jobs', async (req, res) => {
    res.json(await jobs.list(principalOf(res), parseInput(JobListQuery, req.query, 'query')));
  });
  router.get('/v1/jobs/:id', async (req, res) => {
    const { id } = parseInput(JobIdParams, req.params, 'path');
    res.json(await jobs.get(principalOf(res), id));
  });
  router.get('/v1/jobs/:id/events', async (req, res) => {
    const { id } = parseInput(JobIdParams, req.params, 'path');
    const query = parseInput(JobEventsQuery, req.query, 'query');
    await jobs.getRow(principalOf(res), id);
    if (req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream') {
      res.once('close', streams.acquire(principalOf(res).userId));
      streamJobEvents(eventSources, notifier, id, query.after, req, res, stopping);
      return;
    }
    res.json({ items: await eventSources.events.list(id, query.after, query.limit) });
  });
  router.get('/v1/jobs/:id/logs', async (req, res) => {
    const { id } = parseInput(JobIdParams, req.params, 'path');
    const { follow } = parseInput(LogsQuery, req.query, 'query');
    const log = await logs.open(await jobs.getRow(principalOf(res), id), follow);
    if (follow) {
      res.once('close', streams.acquire(principalOf(res).userId));
      // A followed log may stay quiet for long (an epoch without output): idleness does not end it.
      req.setTimeout(0);
    }
    res.type('text/plain; charset=utf-8');
    // A reader that hangs up mid-stream is normal, not a server error; a backend stopping ends the stream.
    await pipeline(log, res, { signal: stopping }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ABORT_ERR') return void res.end();
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
    });
  });
  router.get('/v1/jobs/:id/artifacts/:kind', async (req, res) => {
    const { id, kind } = parseInput(ArtifactParams, req.params, 'path');
    const { artifact, filename, body } = await artifacts.open(await jobs.getRow(principalOf(res), id), kind);
    res.set({
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(artifact.bytes),
      'Content-Disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
      ...(artifact.sha256 ? { 'X-Checksum-Sha256': artifact.sha256 } : {}),
    });
    // A reader that hangs up mid-download is normal, not a server error.
    await pipeline(body, res, { signal: stopping }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ABORT_ERR') return void res.destroy();
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
    });
  });
  router.post('/v1/jobs/:id/cancel', async (req, res) => {
    const { id } = parseInput(JobIdParams, req.params, 'path');
    const { job, accepted } = await jobs.cancel(principalOf(res), id);
    res.status(accepted ? 202 : 200).json(job);
  });
  router.post('/v1/jobs/:id/exports', async (req, res) => {
    const { id } = parseInput(JobIdParams, req.params, 'path');
    const body = parseInput(JobExportRequestBody, req.body, 'body');
    const job = await jobs.requestExport(principalOf(res), id, body);
    res.status(202).location(`/v1/jobs/${job.id}`).json(job);
  });
  router.post('/v1/jobs/:id/resume', async (req, res) => {
    const { id } = parseInput(JobIdParams, req.params, 'path');
    const { job, accepted } = await jobs.resume(principalOf(res), id);
    res.status(accepted ? 202 : 200).json(job);
  });
  return router;
}
