import { buffer } from 'node:stream/consumers';
import { type Artifact, type ArtifactKind, Metrics } from '@vtp/shared-schemas';
import { z } from 'zod';
import type { ObjectStore } from '../storage/objectStore.ts';
import { jobOutputKeyPrefix } from './jobOutputs.ts';

/** Where the trainers write under a job's output prefix (packages/trainer-runtime, Training). */
const LAYOUT: [RegExp, ArtifactKind][] = [
  [/^weights\/best\.onnx$/, 'onnx'], // the best checkpoint exported; before the checkpoint, whose name it shares
  [/^weights\/best\.[^/]+$/, 'best'],
  [/^weights\/last\.[^/]+$/, 'last'],
  [/^training\.log$/, 'log'],
  [/^metrics\.json$/, 'metrics'],
];

/** packages/trainer-runtime writes {jobId, metrics (the final ones), epochs (one entry per epoch)}. */
const MetricsFile = z.object({ metrics: Metrics, epochs: z.array(z.unknown()).optional() });
type MetricsFile = z.infer<typeof MetricsFile>;

export interface StoredOutcome {
  artifacts: Artifact[];
  metrics: Metrics | undefined;
  /** Epochs the training ran, from metrics.json. */
  epochs: number | undefined;
}
/** metrics.json is small; a larger object is not one a trainer wrote. */
const MAX_METRICS_FILE_BYTES = 4 * 1024 * 1024;

/**
 * What a training left in object storage, read when its own report never arrived: the artifacts under the
 * job's output prefix, and the final metrics from its metrics.json.
 */
export class StoredOutputs {
  private readonly objects: ObjectStore;
  constructor(objects: ObjectStore) {
    this.objects = objects;
  }

  /** What the job's `attempt` left (each attempt writes under its own prefix). */
  async find(jobId: string, attempt: number): Promise<StoredOutcome> {
    const prefix = jobOutputKeyPrefix(jobId, attempt);
    const artifacts: Artifact[] = [];
    let metricsKey: string | undefined;
    for (const object of await this.objects.list(prefix)) {
      const name = object.key.slice(prefix.length);
      const kind = LAYOUT.find(([pattern]) => pattern.test(name))?.[1];
      if (!kind) continue;
      artifacts.push({ kind, uri: this.objects.uri(object.key), bytes: object.bytes });
      if (kind === 'metrics' && object.bytes <= MAX_METRICS_FILE_BYTES) metricsKey = object.key;
    }
    const file = metricsKey ? await this.readMetricsFile(metricsKey) : undefined;
    return { artifacts, metrics: file?.metrics, epochs: file?.epochs?.length };
  }

  private async readMetricsFile(key: string): Promise<MetricsFile | undefined> {
    try {
      const body = await this.objects.getStream(key);
      if (!body) return undefined;
      const parsed = MetricsFile.safeParse(JSON.parse((await buffer(body)).toString()));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
