import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** resource (as RBAC names it) -> verbs, e.g. "jobs" -> {create, get}. */
export type Permissions = Map<string, Set<string>>;

const METHOD_VERBS: Record<string, string> = {
  create: 'create',
  read: 'get',
  list: 'list',
  patch: 'patch',
  replace: 'update',
  delete: 'delete',
  deleteCollection: 'deletecollection',
};
/** client-node model names -> RBAC resource names (core and batch groups). */
const RESOURCES: Record<string, string> = {
  Job: 'batch/jobs',
  Pod: '/pods',
  PodLog: '/pods/log',
  PodStatus: '/pods/status',
  Secret: '/secrets',
  ConfigMap: '/configmaps',
  Event: '/events',
  Service: '/services',
};

function grant(permissions: Permissions, resource: string, ...verbs: string[]): void {
  const set = permissions.get(resource) ?? new Set<string>();
  for (const verb of verbs) set.add(verb);
  permissions.set(resource, set);
}

/**
 * The API rights a folder of client-node code needs, read from its calls: `<verb>Namespaced<Kind>(...)`,
 * informers on `/api(s)/.../namespaces/${namespace}/<resource>` (list + watch), and `new Log(...)` (pods/log get).
 * Keys are `<apiGroup>/<resource>` ("" is the core group). Anything else that talks to the API fails the read,
 * so a new kind of call cannot slip past the RBAC check.
 */
export function permissionsUsedBy(dir: string): Permissions {
  const permissions: Permissions = new Map();
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const [call, method, kind] of source.matchAll(
      /\b([a-z][A-Za-z]*?)Namespaced([A-Z][A-Za-z]*)\s*\(/g,
    )) {
      const verb = METHOD_VERBS[method ?? ''];
      const resource = RESOURCES[kind ?? ''];
      if (!verb || !resource) throw new Error(`${file}: unrecognised Kubernetes API call ${call}`);
      grant(permissions, resource, verb);
    }
    const informers = [
      ...source.matchAll(
        /makeInformer\(\s*[^,]+,\s*`\/apis?\/(?:([a-z0-9.]+)\/)?v\d+\/namespaces\/\$\{\w+\}\/([a-z]+)`/g,
      ),
    ];
    if (informers.length !== [...source.matchAll(/\bmakeInformer\(/g)].length)
      throw new Error(
        `${file}: an informer whose path is not a literal namespaced path; the RBAC check cannot read it`,
      );
    for (const [, group, resource] of informers)
      grant(permissions, `${group ?? ''}/${resource}`, 'list', 'watch');
    if (/\bnew Log\(/.test(source)) grant(permissions, '/pods/log', 'get');
    for (const [call] of source.matchAll(
      /\bnew (Watch|Exec|Attach|PortForward|Cp|Metrics|Top)\(|\bmakeApiClient\((?!BatchV1Api|CoreV1Api)\w+/g,
    )) {
      throw new Error(`${file}: ${call} is not covered by the RBAC check (teach test/support/apiCalls.ts)`);
    }
  }
  return permissions;
}
