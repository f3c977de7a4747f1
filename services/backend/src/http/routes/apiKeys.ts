import { parseInput } from '@vtp/service-kit';
import {
  ApiKeyCreateRequestBody,
  type ApiKeyCreateResponseBody,
  ApiKeyIdParams,
  type ApiKeyListResponseBody,
} from '@vtp/shared-schemas';
import { Router } from 'express';
import { principalOf } from '../../auth/principal.ts';
import { requireAdmin } from '../../auth/requireApiKey.ts';
import { generateSecret } from '../../auth/secrets.ts';
import type { UserStore } from '../../auth/userStore.ts';

export function apiKeyRoutes(users: UserStore): Router {
  const router = Router();
  router.post('/v1/api-keys', requireAdmin, async (req, res) => {
    const body = parseInput(ApiKeyCreateRequestBody, req.body, 'body');
    const key = generateSecret('vtp');
    const created = await users.createKey(body.user, body.name, key);
    const response: ApiKeyCreateResponseBody = {
      ...created,
      key,
      createdAt: created.createdAt.toISOString(),
    };
    res.status(201).json(response);
  });
  router.get('/v1/api-keys', async (_req, res) => {
    const keys = await users.listKeys(principalOf(res));
    const body: ApiKeyListResponseBody = {
      items: keys.map((k) => ({ ...k, createdAt: k.createdAt.toISOString() })),
    };
    res.json(body);
  });
  router.delete('/v1/api-keys/:id', async (req, res) => {
    const { id } = parseInput(ApiKeyIdParams, req.params, 'path');
    await users.revokeKey(principalOf(res), id);
    res.status(204).end();
  });
  return router;
}
