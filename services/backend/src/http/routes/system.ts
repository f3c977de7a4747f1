import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { apiReference } from '@scalar/express-api-reference';
import type { HttpMetrics, Logger } from '@vtp/service-kit';
import type { BackendReadiness } from '@vtp/shared-schemas';
import { Router } from 'express';
import type { Db } from '../../db/database.ts';
import type { ObjectStore } from '../../storage/objectStore.ts';

const require = createRequire(import.meta.url);

function loadOpenApiDocument(): unknown {
  return JSON.parse(readFileSync(require.resolve('@vtp/shared-schemas/openapi/backend.json'), 'utf8'));
}

/** The reference page's script is served from the installed package: the page works with no internet. */
function scalarBundlePath(): string {
  // The package exports no subpath for it; its main entry sits in dist/ beside browser/.
  return join(dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js');
}

/** The reason stays in the log: a readiness answer never tells where the database or the bucket is. */
async function check(
  what: string,
  probe: () => Promise<unknown>,
  logger: Logger,
): Promise<{ ok: boolean; detail?: string }> {
  try {
    await probe();
    return { ok: true };
  } catch (err) {
    logger.warn({ err }, `readiness: ${what} unavailable`);
    return { ok: false, detail: `${what} unavailable` };
  }
}

export function systemRoutes(db: Db, objects: ObjectStore, metrics: HttpMetrics, logger: Logger): Router {
  const router = Router();
  const document = loadOpenApiDocument();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [database, storage] = await Promise.all([
      check('database', () => db.raw('select 1'), logger),
      check('object storage', () => objects.ping(), logger),
    ]);
    const body: BackendReadiness = { ready: database.ok && storage.ok, checks: { database, storage } };
    res.status(body.ready ? 200 : 503).json(body);
  });
  router.get('/metrics', metrics.handler);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs/scalar.js', (_req, res) => {
    res.type('application/javascript').sendFile(scalarBundlePath());
  });
  router.get(
    '/docs',
    apiReference({
      url: '/openapi.json',
      cdn: '/docs/scalar.js',
      pageTitle: 'Vision training platform API',
      // Offline-safe: hide the hosted services (AI agent, MCP, deploy toolbar) the page cannot reach.
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: 'never',
    }),
  );
  return router;
}
