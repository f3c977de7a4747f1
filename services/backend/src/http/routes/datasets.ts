import { parseInput } from '@vtp/service-kit';
import { DatasetIdParams, PageQuery } from '@vtp/shared-schemas';
import { Router } from 'express';
import { principalOf } from '../../auth/principal.ts';
import type { DatasetService } from '../../datasets/datasetService.ts';
import { publicDataset } from '../../datasets/datasetStore.ts';

export function datasetRoutes(datasets: DatasetService): Router {
  const router = Router();
  router.post('/v1/datasets', async (req, res) => {
    const dataset = await datasets.create(principalOf(res), req);
    res.status(201).location(`/v1/datasets/${dataset.id}`).json(publicDataset(dataset));
  });
  router.get('/v1/datasets', async (req, res) => {
    const query = parseInput(PageQuery, req.query, 'query');
    const page = await datasets.list(principalOf(res), query.limit, query.cursor);
    res.json({ items: page.items.map(publicDataset), nextCursor: page.nextCursor });
  });
  router.get('/v1/datasets/:id', async (req, res) => {
    const { id } = parseInput(DatasetIdParams, req.params, 'path');
    res.json(publicDataset(await datasets.get(principalOf(res), id)));
  });
  router.delete('/v1/datasets/:id', async (req, res) => {
    const { id } = parseInput(DatasetIdParams, req.params, 'path');
    await datasets.delete(principalOf(res), id);
    res.status(204).end();
  });
  return router;
}
