import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import type { Kubelet } from './kubelet.ts';
import {
  GROUP,
  type KubeObject,
  matchesSelector,
  qualified,
  type Resource,
  type ResourceStore,
  StatusError,
  type WatchEvent,
} from './resourceStore.ts';

export interface ApiServerOptions {
  /** Namespaces the backend's service account may use; anything else is 403, as RBAC answers. */
  namespaces: ReadonlySet<string>;
  /** A ResourceQuota on count/jobs.batch per namespace. */
  maxJobs: number;
}

/** What the API server does beyond storing: the controllers and the garbage collector react to these. */
export interface ApiServerHooks {
  jobCreated(job: KubeObject): void;
  delete(resource: Resource, namespace: string, name: string, propagationPolicy: string | undefined): void;
  patched(): void;
}

const ROUTE =
  /^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/(jobs|pods|secrets)(?:\/([^/]+))?(?:\/(log))?$/;
const API_VERSION: Record<Resource, string> = { jobs: 'batch/v1', pods: 'v1', secrets: 'v1' };
const LIST_KIND: Record<Resource, string> = { jobs: 'JobList', pods: 'PodList', secrets: 'SecretList' };

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  sendJson(res, err.code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    details: err.details,
    code: err.code,
  });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new StatusError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

/** RFC 7386: objects merge key by key, null removes, anything else (lists included) replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

/** A malformed quantity fails decoding (400); a negative one fails validation (422). */
function checkQuantities(job: KubeObject, invalid: (message: string) => StatusError): void {
  const containers: { resources?: Record<string, Record<string, string>> }[] =
    job.spec?.template?.spec?.containers ?? [];
  containers.forEach((container, i) => {
    for (const [section, values] of Object.entries(container.resources ?? {})) {
      for (const [resource, value] of Object.entries(values)) {
        if (!QUANTITY.test(String(value)))
          throw new StatusError(
            400,
            'BadRequest',
            `quantities must match the regular expression '${QUANTITY.source}'`,
          );
        if (String(value).startsWith('-'))
          throw invalid(
            `spec.template.spec.containers[${i}].resources.${section}[${resource}]: Invalid value: "${value}": must be greater than or equal to 0`,
          );
      }
    }
  });
}

const VERBS: Record<string, string> = { GET: 'get', POST: 'create', DELETE: 'delete', PATCH: 'patch' };

/** The real REST paths and bodies @kubernetes/client-node uses for Jobs, pods, pod logs and Secrets. */
export class ApiServer {
  private readonly server: Server;
  private readonly store: ResourceStore;
  private readonly kubelet: Kubelet;
  private readonly hooks: ApiServerHooks;
  private readonly options: ApiServerOptions;

  constructor(store: ResourceStore, kubelet: Kubelet, hooks: ApiServerHooks, options: ApiServerOptions) {
    this.store = store;
    this.kubelet = kubelet;
    this.hooks = hooks;
    this.options = options;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status =
          err instanceof StatusError ? err : new StatusError(500, 'InternalError', (err as Error).message);
        if (!res.headersSent) sendStatus(res, status);
        else res.destroy();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = ROUTE.exec(url.pathname);
    const [, namespace = '', resource, name, sub] = match ?? [];
    if (
      !match ||
      !resource ||
      (sub && resource !== 'pods') ||
      url.pathname.startsWith('/apis/') !== (resource === 'jobs')
    )
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const kind = resource as Resource;
    const watching = url.searchParams.get('watch') === 'true';
    const verb = watching ? 'watch' : name || req.method !== 'GET' ? VERBS[req.method ?? ''] : 'list';
    if (!verb) throw new StatusError(405, 'MethodNotAllowed', `${req.method} is not supported`);
    if (!this.options.namespaces.has(namespace)) {
      throw new StatusError(
        403,
        'Forbidden',
        `${qualified(kind, name)} is forbidden: User "system:serviceaccount:vtp:vtp-backend" cannot ${verb} resource "${kind}" in API group "${GROUP[kind]}" in the namespace "${namespace}"`,
        { name, group: GROUP[kind], kind },
      );
    }
    const selector = url.searchParams.get('labelSelector');
    if (watching)
      return this.watch(req, res, kind, namespace, url.searchParams.get('resourceVersion') ?? '', selector);
    if (sub === 'log') return this.log(res, namespace, name as string, url.searchParams);
    if (!name && req.method === 'GET') {
      return sendJson(res, 200, {
        apiVersion: API_VERSION[kind],
        kind: LIST_KIND[kind],
        metadata: { resourceVersion: this.store.resourceVersion },
        items: this.store.list(kind, namespace, selector),
      });
    }
    if (!name && req.method === 'POST')
      return sendJson(res, 201, this.create(kind, namespace, await readBody(req)));
    if (name && req.method === 'GET') return sendJson(res, 200, this.store.read(kind, namespace, name));
    if (name && req.method === 'PATCH')
      return sendJson(res, 200, await this.patch(req, kind, namespace, name));
    if (name && req.method === 'DELETE') {
      const existing = this.store.read(kind, namespace, name);
      const options = (await readBody(req)) as { propagationPolicy?: string } | undefined;
      this.hooks.delete(
        kind,
        namespace,
        name,
        url.searchParams.get('propagationPolicy') ?? options?.propagationPolicy,
      );
      if (kind === 'pods') return sendJson(res, 200, this.store.get(kind, namespace, name) ?? existing);
      return sendJson(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, group: GROUP[kind], kind, uid: existing.metadata.uid },
      });
    }
    throw new StatusError(405, 'MethodNotAllowed', `${req.method} is not supported on ${url.pathname}`);
  }

  private create(kind: Resource, namespace: string, body: unknown): KubeObject {
    if (kind === 'pods')
      throw new StatusError(405, 'MethodNotAllowed', 'pods are created by the Job controller here');
    const object = body as KubeObject;
    const name = object?.metadata?.name ?? '';
    const invalid = (message: string) =>
      new StatusError(
        422,
        'Invalid',
        `${kind === 'jobs' ? 'Job.batch' : 'Secret'} "${name}" is invalid: ${message}`,
        {
          name,
          group: GROUP[kind],
          kind: kind === 'jobs' ? 'Job' : 'Secret',
        },
      );
    try {
      if (kind === 'jobs') new Job(object as never).validate();
      else new Secret(object as never).validate();
    } catch (err) {
      throw invalid((err as Error).message);
    }
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63)
      throw invalid(
        `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 label of at most 63 characters`,
      );
    if (object.metadata.namespace && object.metadata.namespace !== namespace)
      throw new StatusError(
        400,
        'BadRequest',
        'the namespace of the object does not match the namespace on the request',
      );
    if (kind === 'jobs') {
      checkQuantities(object, invalid);
      const restart = object.spec?.template?.spec?.restartPolicy;
      if (restart !== 'Never' && restart !== 'OnFailure')
        throw invalid(
          `spec.template.spec.restartPolicy: Unsupported value: "${restart}": supported values: "OnFailure", "Never"`,
        );
      const used = this.store.list('jobs', namespace).length;
      if (used >= this.options.maxJobs) {
        throw new StatusError(
          403,
          'Forbidden',
          `jobs.batch "${name}" is forbidden: exceeded quota: training-quota, requested: count/jobs.batch=1, used: count/jobs.batch=${used}, limited: count/jobs.batch=${this.options.maxJobs}`,
          { name, group: 'batch', kind: 'jobs' },
        );
      }
    }
    const created = this.store.create(kind, {
      ...object,
      apiVersion: API_VERSION[kind],
      kind: kind === 'jobs' ? 'Job' : 'Secret',
      metadata: { ...object.metadata, namespace },
    });
    if (kind === 'jobs') this.hooks.jobCreated(created);
    return created;
  }

  private async patch(
    req: IncomingMessage,
    kind: Resource,
    namespace: string,
    name: string,
  ): Promise<KubeObject> {
    const type = req.headers['content-type']?.split(';')[0];
    if (type !== 'application/merge-patch+json') {
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json`,
      );
    }
    const patch = await readBody(req);
    this.store.read(kind, namespace, name);
    const updated = this.store.update(kind, namespace, name, (object) => {
      const merged = mergePatch(object, patch) as KubeObject;
      // Identity and bookkeeping stay the server's.
      merged.metadata = { ...merged.metadata, name, namespace, uid: object.metadata.uid };
      for (const key of Object.keys(object)) delete object[key];
      Object.assign(object, merged);
    }) as KubeObject;
    this.hooks.patched();
    return updated;
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    kind: Resource,
    namespace: string,
    resourceVersion: string,
    selector: string | null,
  ): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // A watch may stay silent for long; the client's request completes with the headers.
    res.flushHeaders();
    const send = (event: WatchEvent) => {
      const { metadata } = event.object;
      if (metadata.namespace !== namespace) return;
      if (!matchesSelector(metadata.labels, selector)) return;
      res.write(`${JSON.stringify(event)}\n`);
    };
    const unsubscribe = this.store.watch(kind, resourceVersion, send);
    req.on('close', unsubscribe);
  }

  private log(res: ServerResponse, namespace: string, name: string, params: URLSearchParams): void {
    const pod = this.store.read('pods', namespace, name);
    const container = params.get('container');
    if (container && !pod.spec.containers.some((c: { name: string }) => c.name === container))
      throw new StatusError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    const log = this.kubelet.log(namespace, name);
    if (!log) {
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating';
      throw new StatusError(
        400,
        'BadRequest',
        `container "${container ?? pod.spec.containers[0].name}" in pod "${name}" is waiting to start: ${waiting}`,
      );
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.write(log.text);
    if (params.get('follow') !== 'true' || log.ended) {
      res.end();
      return;
    }
    const onData = (chunk: Buffer) => res.write(chunk);
    const onEnd = () => res.end();
    log.on('data', onData);
    log.once('end', onEnd);
    res.on('close', () => {
      log.off('data', onData);
      log.off('end', onEnd);
    });
  }
}
