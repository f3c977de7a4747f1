import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

export type Resource = 'jobs' | 'pods' | 'secrets';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generateName?: string;
}

/** Stored objects are plain JSON; only the fields every kind has are typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // biome-ignore lint/suspicious/noExplicitAny: spec and status differ per kind; the controllers know theirs
  [field: string]: any;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

/** An API error in the API server's own terms; the server writes it as a Status body. */
export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: Record<string, unknown>;
  constructor(code: number, reason: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

export const GROUP: Record<Resource, string> = { jobs: 'batch', pods: '', secrets: '' };

/** `jobs.batch "x"`, `pods "x"`: how the API server names an object in its messages. */
export function qualified(resource: Resource, name?: string): string {
  const kind = GROUP[resource] ? `${resource}.${GROUP[resource]}` : resource;
  return name === undefined ? kind : `${kind} "${name}"`;
}

/** `a=b,c!=d,e`: the label selector forms the client sends. */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: string | null,
): boolean {
  if (!selector) return true;
  return selector
    .split(',')
    .filter(Boolean)
    .every((term) => {
      const [key, value] = term.split(/!?=/, 2).map((s) => s.trim());
      if (!key) return true;
      const actual = labels?.[key];
      if (value === undefined) return actual !== undefined;
      return term.includes('!=') ? actual !== value : actual === value;
    });
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The cluster's state as etcd would hold it: one resourceVersion counter across all kinds, every change kept as a
 * watch event so a watch can resume from any resourceVersion it saw.
 */
export class ResourceStore {
  private version = 0;
  private readonly objects: Record<Resource, Map<string, KubeObject>> = {
    jobs: new Map(),
    pods: new Map(),
    secrets: new Map(),
  };
  private readonly history: Record<Resource, { version: number; event: WatchEvent }[]> = {
    jobs: [],
    pods: [],
    secrets: [],
  };
  private readonly events = new EventEmitter().setMaxListeners(0);

  get resourceVersion(): string {
    return String(this.version);
  }

  private record(resource: Resource, type: WatchEvent['type'], object: KubeObject): void {
    const event = { type, object: structuredClone(object) };
    this.history[resource].push({ version: this.version, event });
    this.events.emit(resource, event);
  }

  create(resource: Resource, object: KubeObject): KubeObject {
    const { namespace, name } = object.metadata;
    const key = `${namespace}/${name}`;
    if (this.objects[resource].has(key))
      throw new StatusError(409, 'AlreadyExists', `${qualified(resource, name)} already exists`, {
        name,
        group: GROUP[resource],
        kind: resource,
      });
    const stored = structuredClone(object);
    stored.metadata = {
      ...stored.metadata,
      uid: randomUUID(),
      resourceVersion: String(++this.version),
      creationTimestamp: now(),
    };
    this.objects[resource].set(key, stored);
    this.record(resource, 'ADDED', stored);
    return structuredClone(stored);
  }

  get(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects[resource].get(`${namespace}/${name}`);
    return found && structuredClone(found);
  }

  /** Like `get`, but a missing object is the API's 404. */
  read(resource: Resource, namespace: string, name: string): KubeObject {
    const found = this.get(resource, namespace, name);
    if (!found)
      throw new StatusError(404, 'NotFound', `${qualified(resource, name)} not found`, {
        name,
        group: GROUP[resource],
        kind: resource,
      });
    return found;
  }

  /** Applies `change` to the stored object and publishes the result; undefined when the object is gone. */
  update(
    resource: Resource,
    namespace: string,
    name: string,
    change: (object: KubeObject) => void,
  ): KubeObject | undefined {
    const stored = this.objects[resource].get(`${namespace}/${name}`);
    if (!stored) return undefined;
    change(stored);
    stored.metadata.resourceVersion = String(++this.version);
    this.record(resource, 'MODIFIED', stored);
    return structuredClone(stored);
  }

  remove(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    const key = `${namespace}/${name}`;
    const stored = this.objects[resource].get(key);
    if (!stored) return undefined;
    this.objects[resource].delete(key);
    stored.metadata.resourceVersion = String(++this.version);
    this.record(resource, 'DELETED', stored);
    return structuredClone(stored);
  }

  list(resource: Resource, namespace?: string, selector: string | null = null): KubeObject[] {
    return [...this.objects[resource].values()]
      .filter(
        (o) =>
          (namespace === undefined || o.metadata.namespace === namespace) &&
          matchesSelector(o.metadata.labels, selector),
      )
      .map((o) => structuredClone(o));
  }

  hasUid(uid: string): boolean {
    return Object.values(this.objects).some((objects) =>
      [...objects.values()].some((o) => o.metadata.uid === uid),
    );
  }

  /** Events after `resourceVersion` (empty = the current objects as ADDED), then live ones until unsubscribed. */
  watch(resource: Resource, resourceVersion: string, listener: (event: WatchEvent) => void): () => void {
    if (resourceVersion === '' || resourceVersion === '0') {
      for (const object of this.list(resource)) listener({ type: 'ADDED', object });
    } else {
      const after = Number(resourceVersion);
      for (const { version, event } of this.history[resource]) if (version > after) listener(event);
    }
    this.events.on(resource, listener);
    return () => this.events.off(resource, listener);
  }
}
