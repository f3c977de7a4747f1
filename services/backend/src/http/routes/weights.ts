import { parseInput } from '@vtp/service-kit';
import { PageQuery, WeightsIdParams } from '@vtp/shared-schemas';
import { Router } from 'express';
import { principalOf } from '../../auth/principal.ts';
import type { WeightsService } from '../../weights/weightsService.ts';
import { publicWeights } from '../../weights/weightsStore.ts';

export function weightsRoutes(weights: WeightsService): Router {
  const router = Router();
  router.post('/v1/weights', async (req, res) => {
    const created = await weights.create(principalOf(res), req);
    res.status(201).location(`/v1/weights/${created.id}`).json(publicWeights(created));
  });
  router.get('/v1/weights', async (req, res) => {
    const query = parseInput(PageQuery, req.query, 'query');
    const page = await weights.list(principalOf(res), query.limit, query.cursor);
    res.json({ items: page.items.map(publicWeights), nextCursor: page.nextCursor });
  });
  router.get('/v1/weights/:id', async (req, res) => {
    const { id } = parseInput(WeightsIdParams, req.params, 'path');
    res.json(publicWeights(await weights.get(principalOf(res), id)));
  });
  router.delete('/v1/weights/:id', async (req, res) => {
    const { id } = parseInput(WeightsIdParams, req.params, 'path');
    await weights.delete(principalOf(res), id);
    res.status(204).end();
  });
  return router;
}
