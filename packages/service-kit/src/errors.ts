import type { ProblemIssue } from '@vtp/shared-schemas';

/**
 * Domain errors. Business code throws these and knows nothing of HTTP; the one problem middleware maps each to
 * its status and the problem+json body.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: ProblemIssue[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { issues?: ProblemIssue[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.issues = options.issues;
    this.headers = options.headers ?? {};
  }
}

/** Input that parsed but is not acceptable; `issues` names each field or file at fault. */
export class InputError extends AppError {
  constructor(message: string, issues: ProblemIssue[] = [], code = 'validation_failed') {
    super(422, code, message, { issues });
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Missing or invalid credentials', code = 'unauthorized') {
    super(401, code, message, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, code = 'not_found') {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string, code = 'payload_too_large') {
    super(413, code, message);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string, code = 'unsupported_media_type') {
    super(415, code, message);
  }
}

export class UnavailableError extends AppError {
  constructor(message: string, retryAfterSeconds: number, code = 'unavailable') {
    super(503, code, message, { headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

/** A per-user limit is reached; the client may try again later. */
export class TooManyRequestsError extends AppError {
  constructor(message: string, retryAfterSeconds: number, code = 'too_many_requests') {
    super(429, code, message, { headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}
