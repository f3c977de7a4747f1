import { parseInput, UnauthorizedError } from '@vtp/service-kit';
import { type CallbackResponseBody, JobIdParams, TrainerEvent } from '@vtp/shared-schemas';
import { Router } from 'express';
import { bearerToken } from '../../auth/requireApiKey.ts';
import type { EventIngest } from '../../jobs/eventIngest.ts';

/** Trainer -> backend events; authenticated by the job's own callback token, not by an API key. */
export function callbackRoutes(ingest: EventIngest): Router {
  const router = Router();
  router.post('/v1/jobs/:id/callback', async (req, res) => {
    const token = bearerToken(req.get('authorization'));
    if (!token)
      throw new UnauthorizedError('Send the job callback token as a Bearer token', 'missing_callback_token');
    const { id } = parseInput(JobIdParams, req.params, 'path');
    let event: TrainerEvent;
    try {
      event = parseInput(TrainerEvent, req.body, 'body');
    } catch (err) {
      // Only a caller holding the job's token learns what the schema expects.
      await ingest.authenticate(id, token);
      throw err;
    }
    const { accepted } = await ingest.ingest(id, token, event);
    const body: CallbackResponseBody = { accepted, seq: event.seq };
    res.json(body);
  });
  return router;
}
