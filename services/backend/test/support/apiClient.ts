import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createVtpClient, type VtpClient } from '@vtp/client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Middleware } from 'openapi-fetch';

const require = createRequire(import.meta.url);
const document = JSON.parse(
  readFileSync(require.resolve('@vtp/shared-schemas/openapi/backend.json'), 'utf8'),
) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema(document, 'openapi');

const templates = Object.keys(document.paths).map((template) => ({
  template,
  regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

function pointer(...segments: string[]): string {
  return segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * Checks a response against the committed OpenAPI document: the status must be documented for the operation,
 * the content type must be one it lists, and a JSON body must match its schema. Throws with the details.
 */
export function assertConforms(
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: unknown,
  text: string,
): void {
  const pathname = new URL(path, 'http://x').pathname;
  const match = templates.find((t) => t.regex.test(pathname));
  if (!match) throw new Error(`${method} ${pathname}: path not in the OpenAPI document`);
  const operation = document.paths[match.template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${match.template}: method not in the OpenAPI document`);
  const response = operation.responses[String(status)];
  if (!response) {
    throw new Error(
      `${method} ${match.template}: status ${status} is not documented (body: ${text.slice(0, 300)})`,
    );
  }
  if (!response.content) {
    if (text.length > 0)
      throw new Error(`${method} ${match.template} ${status}: documented without a body, got one`);
    return;
  }
  const type = (contentType ?? '').split(';')[0]?.trim() ?? '';
  if (!(type in response.content)) {
    throw new Error(`${method} ${match.template} ${status}: content type "${type}" not documented`);
  }
  if (!type.endsWith('json')) return;
  const ref = `openapi#/${pointer('paths', match.template, method.toLowerCase(), 'responses', String(status), 'content', type, 'schema')}`;
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`no schema at ${ref}`);
  if (!validate(body)) {
    throw new Error(
      `${method} ${match.template} ${status}: body does not match the schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`,
    );
  }
}

export interface RequestOptions {
  json?: unknown;
  form?: FormData;
  /** A body sent as it is, for requests no well-behaved client would make. */
  raw?: { body: string; contentType: string };
  headers?: Record<string, string>;
  key?: string | null;
}

/**
 * Checks every answer of the typed client against the OpenAPI document (`vtp.api.use(conformance)`), and keeps
 * each answer's text for whoever asks (`answerText`).
 */
const answerTexts = new WeakMap<Response, string>();
export const conformance: Middleware = {
  async onResponse({ request, response }) {
    const text = await response.clone().text();
    const contentType = response.headers.get('content-type');
    const parsed = contentType?.includes('json') && text ? JSON.parse(text) : text;
    const url = new URL(request.url);
    assertConforms(
      request.method,
      `${url.pathname}${url.search}`,
      response.status,
      contentType,
      parsed,
      text,
    );
    answerTexts.set(response, text);
    return undefined;
  },
};

/**
 * The tests' client: requests of any shape (the malformed ones included) through `@vtp/client`, the platform's
 * one client, whose every answer has passed the OpenAPI conformance check.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly key: string | undefined;
  private readonly vtp: VtpClient;

  constructor(baseUrl: string, key?: string) {
    this.baseUrl = baseUrl;
    this.key = key;
    // The key goes on each request: a request may carry another one, or none.
    this.vtp = createVtpClient({ baseUrl });
    this.vtp.api.use(conformance);
  }

  as(key: string): ApiClient {
    return new ApiClient(this.baseUrl, key);
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? this.key : options.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    } else if (options.raw) {
      headers['content-type'] = options.raw.contentType;
      body = options.raw.body;
    }
    // Any path and method, the body sent exactly as built here (the typed routes are for real callers).
    const { response } = await (
      this.vtp.api.request as (method: string, url: string, init: object) => Promise<{ response: Response }>
    )(method.toLowerCase(), path, { headers, body, bodySerializer: (b: unknown) => b, parseAs: 'stream' });
    const text = answerTexts.get(response) ?? '';
    // The middleware read the text from a clone; an answer the client did not read itself is let go.
    if (!response.bodyUsed) await response.body?.cancel();
    const contentType = response.headers.get('content-type');
    const parsed = contentType?.includes('json') && text ? JSON.parse(text) : text;
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  get<T = unknown>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = unknown>(path: string, json?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, { ...options, ...(json === undefined ? {} : { json }) });
  }
  delete<T = unknown>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}
