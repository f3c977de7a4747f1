import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

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

/** A fetch-based client for the tests: every response it returns has passed the OpenAPI conformance check. */
export class ApiClient {
  readonly baseUrl: string;
  readonly key: string | undefined;

  constructor(baseUrl: string, key?: string) {
    this.baseUrl = baseUrl;
    this.key = key;
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
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    const parsed = contentType?.includes('json') && text ? JSON.parse(text) : text;
    assertConforms(method, path, res.status, contentType, parsed, text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
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
