import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, type Logger } from '@vtp/service-kit';
import express, { type Response, Router } from 'express';

/**
 * The console runs only its own bundled script and stylesheet and talks only to this origin; no inline code,
 * no framing. Downloads are Blobs the page made, hence `blob:` for images.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: Response): void {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
}

/**
 * Serves the built web console: `/` (index.html, revalidated on every load so a new build shows at once) and
 * `/assets/*` (content-hashed names, so cached for a year as immutable).
 */
export function webConsole(dir: string, logger: Logger): Router {
  const router = Router();
  let index: string | undefined;
  try {
    index = readFileSync(join(dir, 'index.html'), 'utf8');
  } catch {
    logger.warn({ dir }, 'the web console is not built (npm run build): / answers 503');
  }
  router.get('/', (_req, res) => {
    if (index === undefined)
      throw new AppError(503, 'console_not_built', 'The web console is not built: run `npm run build`');
    secure(res);
    res.set('Cache-Control', 'no-cache').type('html').send(index);
  });
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      redirect: false,
      setHeaders: secure,
    }),
  );
  return router;
}
