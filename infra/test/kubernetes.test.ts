// The Kubernetes manifests as kubectl would send them: each overlay rendered by `kubectl kustomize`, every object
// checked against the Kubernetes schemas and the API's field list, then held to the platform's rules.
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadBackendConfig } from '../../services/backend/src/config.ts';
import { permissionsUsedBy } from './support/apiCalls.ts';
import { unknownFields } from './support/knownFields.ts';
import {
  find,
  findGenerated,
  type K8sObject,
  podTemplates,
  renderKustomization,
  secretValues,
} from './support/kustomize.ts';
import { readRepoFile, repoPath } from './support/repo.ts';
import { validateAgainstSchema } from './support/schemas.ts';

const OVERLAYS = ['kind', 'production'] as const;
type Overlay = (typeof OVERLAYS)[number];

/**
 * A release image: a full x.y.z version (PostgreSQL's releases are major.minor), MinIO's RELEASE.<timestamp>, or
 * a digest; distribution suffixes such as -bookworm allowed.
 */
const PINNED_IMAGE =
  /^([a-z0-9./-]+:v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?|postgres:\d+\.\d+(-[a-z0-9.-]+)?|[a-z0-9./-]+:RELEASE\.[0-9TZ-]+)(@sha256:[a-f0-9]{64})?$/;
/** Kind runs the images kind-up.sh builds and loads. */
const LOCAL_IMAGE = /^vtp\/[a-z-]+:dev$/;

const rendered = new Map<Overlay, K8sObject[]>();
beforeAll(async () => {
  for (const overlay of OVERLAYS) rendered.set(overlay, await renderKustomization(`overlays/${overlay}`));
});
const objectsOf = (overlay: Overlay) => rendered.get(overlay) as K8sObject[];

interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  // biome-ignore lint/suspicious/noExplicitAny: checked field by field below
  [field: string]: any;
}

function containersOf(
  objects: K8sObject[],
): { owner: string; pod: K8sObject['spec']; container: Container }[] {
  return podTemplates(objects).flatMap(({ owner, spec }) =>
    [...(spec.initContainers ?? []), ...spec.containers].map((container: Container) => ({
      owner: `${owner} container ${container.name}`,
      pod: spec,
      container,
    })),
  );
}

/** The backend's environment as its pod gets it: ConfigMap entries, plain values, and Secret values. */
function backendEnv(objects: K8sObject[], secretValue: (name: string, key: string) => string) {
  const deployment = find(objects, 'Deployment', 'backend', 'platform');
  const container = deployment.spec.template.spec.containers.find((c: Container) => c.name === 'backend');
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const configMap = find(objects, 'ConfigMap', source.configMapRef.name, 'platform');
    Object.assign(env, configMap.data);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.secretKeyRef) {
      const { name, key } = variable.valueFrom.secretKeyRef;
      env[variable.name] = secretValue(name, key);
    } else throw new Error(`backend env ${variable.name}: unexpected source`);
  }
  return env;
}

/** Production Secrets are the operator's: these stand-ins have the shapes the backend accepts. */
const PRODUCTION_SECRETS: Record<string, string> = {
  DATABASE_URL: 'postgres://vtp:secret@db.example.com:5432/vtp?sslmode=require',
  ADMIN_API_KEY: 'vtp_admin_0123456789abcdefghijklmn',
  TRAINER_TOKEN: 'vtp_trainer_0123456789abcdefghijklmn',
  AWS_ACCESS_KEY_ID: 'access-key',
  AWS_SECRET_ACCESS_KEY: 'secret-key',
};

function secretLookup(overlay: Overlay, objects: K8sObject[]) {
  return (name: string, key: string): string => {
    if (overlay === 'production') {
      const value = PRODUCTION_SECRETS[key];
      if (value === undefined) throw new Error(`no stand-in for production Secret ${name} key ${key}`);
      return value;
    }
    const value = secretValues(find(objects, 'Secret', name, 'platform'))[key];
    if (value === undefined) throw new Error(`Secret platform/${name} has no key ${key}`);
    return value;
  };
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  it('renders objects that match the Kubernetes schemas and use no unknown field', () => {
    const objects = objectsOf(overlay);
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) {
      validateAgainstSchema(object);
      expect(unknownFields(object), `${object.kind} ${object.metadata.name}`).toEqual([]);
    }
  });

  it('puts every namespaced object in platform or training, both under the restricted Pod Security Standard', () => {
    const objects = objectsOf(overlay);
    for (const name of ['platform', 'training']) {
      const namespace = find(objects, 'Namespace', name);
      expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      expect(['platform', 'training'], `${object.kind} ${object.metadata.name}`).toContain(
        object.metadata.namespace,
      );
    }
  });

  it('runs every container hardened and bounded: non-root, read-only root, no capabilities, seccomp, limits', () => {
    const containers = containersOf(objectsOf(overlay));
    expect(containers.length).toBeGreaterThan(0);
    for (const { owner, pod, container } of containers) {
      const sc = container.securityContext ?? {};
      expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, `${owner}: runAsNonRoot`).toBe(true);
      const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
      expect(uid, `${owner}: runAsUser`).toBeGreaterThan(0);
      expect(sc.allowPrivilegeEscalation, `${owner}: allowPrivilegeEscalation`).toBe(false);
      expect(sc.readOnlyRootFilesystem, `${owner}: readOnlyRootFilesystem`).toBe(true);
      expect(sc.capabilities?.drop, `${owner}: drop ALL`).toEqual(['ALL']);
      expect(sc.capabilities?.add, `${owner}: no added capabilities`).toBeUndefined();
      expect(sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type, `${owner}: seccomp`).toBe(
        'RuntimeDefault',
      );
      for (const bound of ['requests', 'limits'] as const) {
        expect(container.resources?.[bound]?.cpu, `${owner}: ${bound}.cpu`).toBeDefined();
        expect(container.resources?.[bound]?.memory, `${owner}: ${bound}.memory`).toBeDefined();
      }
      expect(pod.hostNetwork ?? false, `${owner}: hostNetwork`).toBe(false);
      expect(sc.privileged ?? false, `${owner}: privileged`).toBe(false);
    }
  });

  it('runs images pinned to a version, the locally built ones only in kind', () => {
    const objects = objectsOf(overlay);
    const config = findGenerated(objects, 'ConfigMap', 'backend-config', 'platform').data;
    const images = [
      ...containersOf(objects).map(({ owner, container }) => ({ owner, image: container.image, container })),
      { owner: 'TRAINER_IMAGE_ULTRALYTICS', image: config.TRAINER_IMAGE_ULTRALYTICS, container: undefined },
      { owner: 'TRAINER_IMAGE_TIMM', image: config.TRAINER_IMAGE_TIMM, container: undefined },
    ];
    for (const { owner, image, container } of images) {
      expect(image, owner).not.toMatch(/:latest$/);
      if (overlay === 'kind' && LOCAL_IMAGE.test(image)) {
        // `kind load` puts them on the nodes; pulling would fail.
        if (container) expect(container.imagePullPolicy, owner).toBe('IfNotPresent');
        continue;
      }
      expect(image, owner).toMatch(PINNED_IMAGE);
    }
  });

  it('gives the backend a configuration its own config loader accepts, for Kubernetes execution', () => {
    const objects = objectsOf(overlay);
    const env = backendEnv(objects, secretLookup(overlay, objects));
    const config = loadBackendConfig(env);
    expect(config.EXECUTION_MODE).toBe('kubernetes');
    expect(config.DATABASE_URL).toBeDefined();
    expect(config.ADMIN_API_KEY).toBeDefined();
    // Trainings call back through the backend Service, on the port the NetworkPolicy opens.
    const service = find(objects, 'Service', 'backend', 'platform');
    const callback = new URL(config.BACKEND_BASE_URL ?? '');
    expect(callback.hostname).toBe('backend.platform.svc.cluster.local');
    expect(Number(callback.port)).toBe(service.spec.ports[0].port);
    expect(config.TRAINING_NAMESPACE).toBe('training');
  });

  it('sets only variables the backend knows (a misspelt one would be ignored without a word)', async () => {
    const { BackendEnv } = await import('../../services/backend/src/config.ts');
    const known = new Set(Object.keys(BackendEnv.shape));
    const objects = objectsOf(overlay);
    const env = backendEnv(objects, () => 'x');
    // OTEL_* are the OpenTelemetry SDK's own settings, read by it rather than by the backend's config.
    for (const name of Object.keys(env)) expect(known.has(name) || name.startsWith('OTEL_'), name).toBe(true);
  });

  it('exposes the backend to Prometheus, probes it, and mounts writable /tmp and DATA_DIR from emptyDirs', () => {
    const objects = objectsOf(overlay);
    const template = find(objects, 'Deployment', 'backend', 'platform').spec.template;
    const container = template.spec.containers[0];
    const port = container.ports.find((p: { name: string }) => p.name === 'http').containerPort;
    expect(template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(port),
      'prometheus.io/path': '/metrics',
    });
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(template.spec.serviceAccountName).toBe('backend');
    const dataDir = findGenerated(objects, 'ConfigMap', 'backend-config', 'platform').data.DATA_DIR;
    const emptyDirs = new Set(
      template.spec.volumes
        .filter((v: { emptyDir?: object }) => v.emptyDir)
        .map((v: { name: string }) => v.name),
    );
    for (const path of ['/tmp', dataDir]) {
      const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === path);
      expect(mount, `a volume at ${path}`).toBeDefined();
      expect(emptyDirs.has(mount.name), `${path} is an emptyDir`).toBe(true);
    }
  });

  it('grants the backend exactly the API calls its Kubernetes execution code makes, in training only', () => {
    const objects = objectsOf(overlay);
    expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    const binding = find(objects, 'RoleBinding', 'backend-trainings', 'training');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'backend', namespace: 'platform' }]);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'backend-trainings',
    });
    const role = find(objects, 'Role', 'backend-trainings', 'training');
    const granted = new Map<string, string[]>();
    for (const rule of role.rules) {
      expect(rule.resourceNames, 'resourceNames are not used').toBeUndefined();
      for (const group of rule.apiGroups)
        for (const resource of rule.resources) {
          const key = `${group}/${resource}`;
          expect(granted.has(key), `${key} appears in one rule only`).toBe(false);
          granted.set(key, [...rule.verbs].sort());
        }
    }
    const used = permissionsUsedBy(repoPath('services', 'backend', 'src', 'execution', 'kubernetes'));
    const needed = new Map([...used].map(([resource, verbs]) => [resource, [...verbs].sort()]));
    expect(Object.fromEntries(granted)).toEqual(Object.fromEntries(needed));
    // The brief's minimum, as a floor against a regex that reads too little.
    expect(needed.get('batch/jobs')).toEqual(['create', 'delete', 'get', 'list', 'watch']);
    expect(needed.get('/pods/log')).toEqual(['get']);
  });

  it('binds no other Role to the backend, and lets no other Role read Secrets or change anything', () => {
    const objects = objectsOf(overlay);
    for (const binding of objects.filter(
      (o) => o.kind === 'RoleBinding' && o.metadata.name !== 'backend-trainings',
    )) {
      expect(binding.subjects.map((s: { name: string }) => s.name)).not.toContain('backend');
    }
    for (const role of objects.filter((o) => o.kind === 'Role' && o.metadata.name !== 'backend-trainings')) {
      for (const rule of role.rules) {
        expect(rule.resources, role.metadata.name).not.toContain('secrets');
        for (const verb of rule.verbs) expect(['get', 'list', 'watch'], role.metadata.name).toContain(verb);
      }
    }
  });

  it('bounds what trainings take: a quota for the namespace, defaults and a maximum per container', () => {
    const objects = objectsOf(overlay);
    const quota = find(objects, 'ResourceQuota', 'training-quota', 'training');
    expect(Object.keys(quota.spec.hard)).toEqual(
      expect.arrayContaining(['pods', 'requests.cpu', 'requests.memory', 'requests.nvidia.com/gpu']),
    );
    const limits = find(objects, 'LimitRange', 'training-defaults', 'training');
    expect(limits.spec.limits[0].max).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  });

  it('fences the training pods: no ingress; egress only to DNS, the backend callback port, object storage (and in kind the trace receiver)', () => {
    const objects = objectsOf(overlay);
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'training');
    const defaultDeny = find(objects, 'NetworkPolicy', 'default-deny', 'training');
    expect(defaultDeny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    for (const policy of policies) {
      expect(policy.spec.podSelector, `${policy.metadata.name} covers every pod`).toEqual({});
      expect(policy.spec.ingress, `${policy.metadata.name} allows no ingress`).toBeUndefined();
    }
    const backendPort = find(objects, 'Service', 'backend', 'platform').spec.ports[0].port;
    const rules = policies.flatMap((p) => p.spec.egress ?? []);
    const described = rules.map((rule) => describeEgress(rule, overlay, objects, backendPort)).sort();
    expect(described).toEqual(
      overlay === 'kind'
        ? ['backend', 'dns', 'object-storage', 'traces']
        : ['backend', 'dns', 'object-storage'],
    );
  });

  it('scrapes or exposes nothing from the training namespace', () => {
    const objects = objectsOf(overlay);
    expect(objects.filter((o) => o.kind === 'Service' && o.metadata.namespace === 'training')).toEqual([]);
    const serviceAccount = find(objects, 'ServiceAccount', 'default', 'training');
    expect(serviceAccount.automountServiceAccountToken).toBe(false);
  });
});

/** Which allowed destination an egress rule is; throws for anything else. */
function describeEgress(
  rule: { to?: Record<string, unknown>[]; ports?: { protocol: string; port: number }[] },
  overlay: Overlay,
  objects: K8sObject[],
  backendPort: number,
): string {
  const podsIn = (namespace: string, labels: Record<string, string>) => [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      podSelector: { matchLabels: labels },
    },
  ];
  const tcp = (port: number) => [{ protocol: 'TCP', port }];
  const is = (to: unknown, ports: unknown) =>
    isDeepStrictEqual(rule.to, to) && isDeepStrictEqual(rule.ports, ports);

  const dnsPorts = [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ];
  if (is(podsIn('kube-system', { 'k8s-app': 'kube-dns' }), dnsPorts)) return 'dns';
  if (is(podsIn('platform', { 'app.kubernetes.io/name': 'backend' }), tcp(backendPort))) return 'backend';
  if (overlay === 'kind') {
    const otlpPort = find(objects, 'Service', 'alloy', 'platform').spec.ports[0].port;
    if (is(podsIn('platform', { 'app.kubernetes.io/name': 'alloy' }), tcp(otlpPort))) return 'traces';
    const minioPort = find(objects, 'Service', 'minio', 'platform').spec.ports[0].port;
    if (is(podsIn('platform', { 'app.kubernetes.io/name': 'minio' }), tcp(minioPort)))
      return 'object-storage';
  } else {
    const block = rule.to?.[0]?.ipBlock as { cidr: string; except: string[] } | undefined;
    const closed = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'];
    if (
      rule.to?.length === 1 &&
      block?.cidr === '0.0.0.0/0' &&
      closed.every((range) => block.except.includes(range)) &&
      isDeepStrictEqual(rule.ports, tcp(443))
    )
      return 'object-storage';
  }
  throw new Error(
    `unexpected egress from the training namespace: to ${JSON.stringify(rule.to)} ports ${JSON.stringify(rule.ports)}`,
  );
}

describe('overlay production-cilium', () => {
  it('lets training pods reach object storage by the host of S3_ENDPOINT only, instead of any address on 443', async () => {
    const objects = await renderKustomization('overlays/production-cilium');
    const production = objectsOf('production');
    const names = (list: K8sObject[]) =>
      list.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
    expect(names(objects).sort()).toEqual(
      [
        ...names(production).filter((n) => n !== 'NetworkPolicy training/egress-object-storage'),
        'CiliumNetworkPolicy training/egress-object-storage-by-host',
      ].sort(),
    );
    const policy = find(objects, 'CiliumNetworkPolicy', 'egress-object-storage-by-host', 'training');
    validateAgainstSchema(policy);
    const storageHost = new URL(backendEnv(objects, secretLookup('production', objects)).S3_ENDPOINT ?? '')
      .hostname;
    expect(policy.spec).toEqual({
      endpointSelector: {},
      egress: [
        {
          // Cilium learns the storage addresses from the pods' DNS answers, so lookups go through its proxy.
          toEndpoints: [
            { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'kube-dns' } },
          ],
          toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }],
        },
        {
          toFQDNs: [{ matchName: expect.any(String) }],
          toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
        },
      ],
    });
    // Host names compare without case (URL lowers them).
    expect(policy.spec.egress[1].toFQDNs[0].matchName.toLowerCase()).toBe(storageHost);
  });
});

describe('overlay kind', () => {
  it('wires the backend to the in-cluster PostgreSQL and MinIO with matching credentials', () => {
    const objects = objectsOf('kind');
    const env = backendEnv(objects, secretLookup('kind', objects));
    const database = new URL(env.DATABASE_URL ?? '');
    const postgres = find(objects, 'StatefulSet', 'postgres', 'platform').spec.template.spec.containers[0];
    const postgresEnv = Object.fromEntries(
      postgres.env
        .filter((e: { value?: string }) => e.value)
        .map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    const passwordRef = postgres.env.find((e: { name: string }) => e.name === 'POSTGRES_PASSWORD').valueFrom
      .secretKeyRef;
    const password = secretValues(find(objects, 'Secret', passwordRef.name, 'platform'))[passwordRef.key];
    expect(database.hostname).toBe('postgres.platform.svc.cluster.local');
    expect(Number(database.port)).toBe(find(objects, 'Service', 'postgres', 'platform').spec.ports[0].port);
    expect(decodeURIComponent(database.username)).toBe(postgresEnv.POSTGRES_USER);
    expect(decodeURIComponent(database.password)).toBe(password);
    expect(database.pathname).toBe(`/${postgresEnv.POSTGRES_DB}`);

    const storage = new URL(env.S3_ENDPOINT ?? '');
    expect(storage.hostname).toBe('minio.platform.svc.cluster.local');
    expect(Number(storage.port)).toBe(find(objects, 'Service', 'minio', 'platform').spec.ports[0].port);
    // Training pods get presigned URLs: no storage Secret in their namespace.
    expect(objects.filter((o) => o.kind === 'Secret' && o.metadata.namespace === 'training')).toEqual([]);
    const bucketJob = find(objects, 'Job', 'minio-create-bucket', 'platform').spec.template.spec
      .containers[0];
    const jobEnv = Object.fromEntries(
      bucketJob.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    expect(jobEnv.S3_ENDPOINT).toBe(env.S3_ENDPOINT);
    expect(jobEnv.BUCKET_NAME).toBe(env.BUCKET_NAME);
  });
});

describe('overlay kind', () => {
  const volume = (spec: K8sObject['spec'], name: string) =>
    spec.volumes.find((v: { name: string }) => v.name === name).configMap.name as string;
  const mount = (container: Container, name: string) =>
    container.volumeMounts.find((m: { name: string }) => m.name === name).mountPath as string;

  // (Debian's promtool, which the tests have, is built without Kubernetes discovery: it cannot check this config.)
  it("Prometheus loads the platform's rules from their ConfigMap and scrapes the backend as vtp-backend", () => {
    const objects = objectsOf('kind');
    const pod = find(objects, 'Deployment', 'prometheus', 'platform').spec.template.spec;
    const container = pod.containers[0] as Container;
    const rules = find(objects, 'ConfigMap', volume(pod, 'rules'), 'platform').data;
    expect(rules).toEqual({ 'rules.yaml': readRepoFile('infra/observability/prometheus/rules.yaml') });
    const config = parse(
      find(objects, 'ConfigMap', volume(pod, 'config'), 'platform').data['prometheus.yml'],
    );
    expect(config.rule_files).toEqual([`${mount(container, 'rules')}/*.yaml`]);
    const relabel = config.scrape_configs[0].relabel_configs.find(
      (r: { target_label: string }) => r.target_label === 'job',
    );
    expect(relabel).toMatchObject({ regex: '(.+)', replacement: 'vtp-$1' });
    expect(find(objects, 'Deployment', 'backend', 'platform').spec.template.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'backend',
    });
  });

  it("sends the pods' log lines through Alloy to Loki and the spans of the backend and the trainings to Tempo", () => {
    const objects = objectsOf('kind');
    const port = (service: string, name: string) =>
      find(objects, 'Service', service, 'platform').spec.ports.find((p: { name: string }) => p.name === name)
        .port as number;
    const alloyPod = find(objects, 'Deployment', 'alloy', 'platform').spec.template.spec;
    const alloy = find(objects, 'ConfigMap', volume(alloyPod, 'config'), 'platform').data['config.alloy'];
    expect(alloy).toBe(readRepoFile('infra/observability/pipeline/kubernetes.alloy'));
    expect(alloyPod.containers[0].args.at(-1)).toBe(
      `${mount(alloyPod.containers[0], 'config')}/config.alloy`,
    );
    const otlp = `http://alloy.platform.svc.cluster.local:${port('alloy', 'otlp-http')}`;
    expect(alloy).toContain(`endpoint = "0.0.0.0:${port('alloy', 'otlp-http')}"`);
    const env = backendEnv(objects, () => 'x');
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(otlp);
    expect(loadBackendConfig(backendEnv(objects, secretLookup('kind', objects))).TRAINER_OTLP_ENDPOINT).toBe(
      otlp,
    );
    expect(alloy).toContain(`endpoint = "tempo.platform.svc.cluster.local:${port('tempo', 'otlp-grpc')}"`);
    expect(alloy).toContain(
      `url = "http://loki.platform.svc.cluster.local:${port('loki', 'http')}/loki/api/v1/push"`,
    );
    // The stores read the same files compose mounts.
    for (const [name, file] of [
      ['loki', 'loki.yaml'],
      ['tempo', 'tempo.yaml'],
    ]) {
      const pod = find(objects, 'Deployment', name as string, 'platform').spec.template.spec;
      expect(find(objects, 'ConfigMap', volume(pod, 'config'), 'platform').data[file as string]).toBe(
        readRepoFile(`infra/observability/pipeline/${file}`),
      );
    }
    // Alloy reads pods and their logs, in the two namespaces it follows, and nothing else.
    expect(alloy).toContain('names = ["platform", "training"]');
    const bound = objects.filter(
      (o) => o.kind === 'RoleBinding' && o.subjects?.some((s: { name: string }) => s.name === 'alloy'),
    );
    expect(bound.map((b) => b.metadata.namespace).sort()).toEqual(['platform', 'training']);
    for (const binding of bound)
      expect(find(objects, 'Role', binding.roleRef.name, binding.metadata.namespace).rules).toEqual([
        { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
      ]);
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding')).toEqual([]);
  });

  it('Grafana provisions the generated dashboards, opens on the platform one, and has the Prometheus they query', () => {
    const objects = objectsOf('kind');
    const pod = find(objects, 'Deployment', 'grafana', 'platform').spec.template.spec;
    const container = pod.containers[0] as Container;
    const dashboards = find(objects, 'ConfigMap', volume(pod, 'dashboards'), 'platform').data;
    for (const file of ['platform.json', 'job-journey.json', 'trainers.json'])
      expect(dashboards[file], file).toBe(readRepoFile(`infra/observability/grafana/dashboards/${file}`));
    const home = container.env.find(
      (e: { name: string }) => e.name === 'GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH',
    );
    expect(home.value).toBe(`${mount(container, 'dashboards')}/platform.json`);
    const provisioning = find(objects, 'ConfigMap', volume(pod, 'provisioning'), 'platform').data;
    expect(parse(provisioning['datasources.yaml']).datasources).toEqual([
      expect.objectContaining({ uid: 'prometheus', type: 'prometheus' }),
      expect.objectContaining({
        uid: 'loki',
        type: 'loki',
        url: 'http://loki.platform.svc.cluster.local:3100',
      }),
      expect.objectContaining({
        uid: 'tempo',
        type: 'tempo',
        url: 'http://tempo.platform.svc.cluster.local:3200',
      }),
    ]);
    expect(parse(provisioning['dashboards.yaml']).providers[0].options.path).toBe(
      mount(container, 'dashboards'),
    );
  });
});

describe('overlay production-observability', () => {
  it('adds to production only the PrometheusRule, a PodMonitor of the backend and the dashboards for the sidecar', async () => {
    const objects = await renderKustomization('overlays/production-observability');
    const names = (list: K8sObject[]) =>
      list.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`);
    expect(names(objects).sort()).toEqual(
      [
        ...names(objectsOf('production')),
        'ConfigMap platform/grafana-dashboards',
        'PodMonitor platform/vtp-backend',
        'PrometheusRule platform/vtp',
      ].sort(),
    );
    for (const object of objects) validateAgainstSchema(object);

    const rule = find(objects, 'PrometheusRule', 'vtp', 'platform');
    expect(rule.spec.groups).toEqual(parse(readRepoFile('infra/observability/prometheus/rules.yaml')).groups);

    const monitor = find(objects, 'PodMonitor', 'vtp-backend', 'platform');
    const backend = find(objects, 'Deployment', 'backend', 'platform').spec.template;
    expect(backend.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    const ports = backend.spec.containers[0].ports.map((p: { name: string }) => p.name);
    expect(ports).toContain(endpoint.port);
    expect(endpoint.path).toBe(backend.metadata.annotations['prometheus.io/path']);
    expect(endpoint.relabelings).toEqual([
      { action: 'replace', targetLabel: 'job', replacement: 'vtp-backend' },
    ]);

    const dashboards = findGenerated(objects, 'ConfigMap', 'grafana-dashboards', 'platform');
    expect(dashboards.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    for (const file of ['platform.json', 'job-journey.json', 'trainers.json'])
      expect(dashboards.data[file], file).toBe(
        readRepoFile(`infra/observability/grafana/dashboards/${file}`),
      );
  });
});

describe('overlay production', () => {
  it('runs two or more backends, keeps one through disruptions, scales on load and is reachable through an Ingress', () => {
    const objects = objectsOf('production');
    const deployment = find(objects, 'Deployment', 'backend', 'platform');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const podLabels = deployment.spec.template.metadata.labels;

    const pdb = find(objects, 'PodDisruptionBudget', 'backend', 'platform');
    expect(podLabels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);

    const hpa = find(objects, 'HorizontalPodAutoscaler', 'backend', 'platform');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'backend' });
    expect(hpa.spec.minReplicas).toBe(deployment.spec.replicas);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);

    const ingress = find(objects, 'Ingress', 'backend', 'platform');
    const service = find(objects, 'Service', 'backend', 'platform');
    type IngressPath = {
      path: string;
      pathType: string;
      backend: { service: { name: string; port: { name: string } } };
    };
    const paths: IngressPath[] = ingress.spec.rules[0].http.paths;
    for (const { backend } of paths) {
      expect(backend.service.name).toBe(service.metadata.name);
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.service.port.name);
    }
    // The API is public; the metrics are not.
    const routed = (url: string) =>
      paths.some((p) =>
        p.pathType === 'Exact' ? url === p.path : url === p.path || url.startsWith(`${p.path}/`),
      );
    expect(['/v1/jobs', '/docs', '/openapi.json', '/healthz', '/readyz'].every(routed)).toBe(true);
    expect(routed('/metrics')).toBe(false);
    expect(ingress.spec.tls).toHaveLength(1);
  });

  it('ships no Secret: database and storage credentials are created by the operator', () => {
    expect(objectsOf('production').filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});
