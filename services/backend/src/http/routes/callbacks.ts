import { annotateActiveSpan, jobSpanAttributes, parseInput, UnauthorizedError } from '@vtp/service-kit';
import {
  type CallbackBatchResponseBody,
  type CallbackResponseBody,
  JobIdParams,
  StorageUrlRequestBody,
  type StorageUrlResponseBody,
  TrainerEvent,
  TrainerEventBatch,
} from '@vtp/shared-schemas';
import { type Request, Router } from 'express';
import { bearerToken } from '../../auth/requireApiKey.ts';
import type { EventIngest } from '../../jobs/eventIngest.ts';
import type { TrainerStorage } from '../../jobs/trainerStorage.ts';
import type { JobMetrics } from '../../observability/jobMetrics.ts';

function callbackToken(req: Request): string {
  const token = bearerToken(req.get('authorization'));
  if (!token)
    throw new UnauthorizedError('Send the job callback token as a Bearer token', 'missing_callback_token');
  return token;
}

/** Trainer -> backend calls; authenticated by the job's own callback token, not by an API key. */
export function callbackRoutes(ingest: EventIngest, storage: TrainerStorage, metrics: JobMetrics): Router {
  const router = Router();
  router.post('/v1/jobs/:id/callback', async (req, res, next) => {
    try {
      res.json(await report(req));
    } catch (err) {
      metrics.callbackRefused(err);
      next(err);
    }
  });
  /** Stores a trainer's report: one event or a batch. */
  async function report(req: Request): Promise<CallbackResponseBody | CallbackBatchResponseBody> {
    const token = callbackToken(req);
    const { id } = parseInput(JobIdParams, req.params, 'path');
    const batched = typeof req.body === 'object' && req.body !== null && 'events' in req.body;
    let events: TrainerEvent[];
    try {
      events = batched
        ? parseInput(TrainerEventBatch, req.body, 'body').events
        : [parseInput(TrainerEvent, req.body, 'body')];
    } catch (err) {
      // Only a caller holding the job's token learns what the schema expects.
      await ingest.authenticate(id, token);
      throw err;
    }
    annotateActiveSpan({
      ...jobSpanAttributes({ jobId: id }),
      'vtp.callback.event_types': [...new Set(events.map((event) => event.type))],
    });
    const results = await ingest.ingestBatch(id, token, events, batched ? 'body.events' : 'body');
    return batched ? { results } : (results[0] as CallbackResponseBody);
  }
  router.post('/v1/jobs/:id/storage-urls', async (req, res) => {
    const token = callbackToken(req);
    const { id } = parseInput(JobIdParams, req.params, 'path');
    const job = await storage.authenticate(id, token);
    const request = parseInput(StorageUrlRequestBody, req.body, 'body');
    const body: StorageUrlResponseBody = await storage.urlFor(job, request);
    res.json(body);
  });
  return router;
}
