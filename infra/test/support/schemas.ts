import { CiliumNetworkPolicy } from '@kubernetes-models/cilium/cilium.io/v2';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import {
  ConfigMap,
  LimitRange,
  Namespace,
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-models/v1';
import type { K8sObject } from './kustomize.ts';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** apiVersion/kind -> the kubernetes-models class holding its OpenAPI schema. */
const MODELS: Record<string, ModelClass> = Object.fromEntries(
  [
    Namespace,
    ServiceAccount,
    ConfigMap,
    Secret,
    Service,
    LimitRange,
    ResourceQuota,
    PersistentVolumeClaim,
    Pod,
    Deployment,
    StatefulSet,
    Job,
    CronJob,
    Role,
    RoleBinding,
    ClusterRole,
    ClusterRoleBinding,
    NetworkPolicy,
    Ingress,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    CiliumNetworkPolicy,
    PrometheusRule,
    PodMonitor,
  ].map((model) => [`${model.apiVersion}/${model.kind}`, model as unknown as ModelClass]),
);

/** Validates the object against the Kubernetes schema of its kind; throws naming the object and the problem. */
export function validateAgainstSchema(object: K8sObject): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  const name = `${object.apiVersion} ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
  if (!model)
    throw new Error(`${name}: no schema mapped for this kind (add its class in test/support/schemas.ts)`);
  try {
    new model(withUnwrappedBase64(object) as never).validate();
  } catch (error) {
    throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * kustomize wraps long base64 values in Secrets over several lines; the API server's decoder skips line breaks,
 * the schema's "byte" format does not.
 */
function withUnwrappedBase64(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || !object.data) return object;
  const data = Object.fromEntries(
    Object.entries(object.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]),
  );
  return { ...object, data };
}
