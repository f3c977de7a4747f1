import { parseInput } from '@vtp/service-kit';
import { ApiKeyCreateRequestBody, type ApiKeyCreateResponseBody } from '@vtp/shared-schemas';
import { Router } from 'express';
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
  return router;
}
