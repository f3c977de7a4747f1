import * as k8s from '@kubernetes/client-node';
import type { K8sObject } from './kustomize.ts';

interface Attribute {
  baseName: string;
  type: string;
}
interface ModelType {
  getAttributeTypeMap(): Attribute[];
}

const models = k8s as unknown as Record<string, Partial<ModelType> | undefined>;

function model(type: string): ModelType | undefined {
  const candidate = models[type];
  return typeof candidate?.getAttributeTypeMap === 'function' ? (candidate as ModelType) : undefined;
}

/**
 * Fields the Kubernetes API does not know, as `path: field` (what `kubectl apply --validate=strict` refuses).
 * The JSON schemas of kubernetes-models accept unknown fields, so a typo such as `imagePulPolicy` would pass
 * them silently; the client library's type map knows every field of every model.
 */
export function unknownFields(object: K8sObject): string[] {
  const version = object.apiVersion.split('/').at(-1) ?? '';
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
  if (!model(type)) return [`(no client model ${type} to check ${object.kind} against)`];
  const problems: string[] = [];
  walk(object, type, object.kind, problems);
  return problems;
}

function walk(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, array[1] ?? '', `${path}[${i}]`, problems);
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      walk(item, map[1] ?? '', `${path}.${key}`, problems);
    return;
  }
  const known = model(type);
  if (!known || typeof value !== 'object') return;
  const attributes = new Map(known.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const itemType = attributes.get(key);
    if (itemType === undefined) problems.push(`${path}: unknown field "${key}"`);
    else walk(item, itemType, `${path}.${key}`, problems);
  }
}
