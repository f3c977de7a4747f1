import type { Problem } from '@vtp/shared-schemas';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, NotFoundError } from './errors.ts';
import type { Logger } from './logger.ts';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemBody(
  status: number,
  code: string,
  detail: string,
  extra: Partial<Problem> = {},
): Problem {
  return { type: 'about:blank', title: titles[status] ?? 'Error', status, code, detail, ...extra };
}

/** Errors thrown by express' own body parsers carry `type` and `status`. */
function fromBodyParser(err: unknown): AppError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  const type = (err as { type: unknown }).type;
  if (type === 'entity.parse.failed')
    return new AppError(400, 'malformed_json', 'The request body is not valid JSON');
  if (type === 'entity.too.large')
    return new AppError(413, 'payload_too_large', 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError(415, 'unsupported_media_type', 'Unsupported request body encoding');
  }
  return undefined;
}

/** The one error handler: every failure leaves as application/problem+json; only 5xx are logged as errors. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = err instanceof AppError ? err : fromBodyParser(err);
    const status = known?.status ?? 500;
    if (status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = known
      ? problemBody(status, known.code, known.message, known.issues ? { issues: known.issues } : {})
      : problemBody(500, 'internal_error', 'Internal error');
    res
      .status(status)
      .set(known?.headers ?? {})
      .type('application/problem+json')
      .send(JSON.stringify(body));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new NotFoundError(`No route for ${req.method} ${req.path}`, 'route_not_found'));
};
