import type { ObjectStore } from '../storage/objectStore.ts';
import type { WeightsStore } from '../weights/weightsStore.ts';
import type { JobRow, JobStore } from './jobStore.ts';

/**
 * Where a job's starting weights are (its `initialWeights`): a checkpoint of an earlier job, or weights the user
 * uploaded. What the dispatcher hands the trainer, and the one input besides the dataset a trainer may read.
 */
export class InitialWeightsSource {
  private readonly jobs: Pick<JobStore, 'checkpointUri'>;
  private readonly weights: Pick<WeightsStore, 'findById'>;
  private readonly objects: Pick<ObjectStore, 'uri'>;

  constructor(deps: {
    jobs: Pick<JobStore, 'checkpointUri'>;
    weights: Pick<WeightsStore, 'findById'>;
    objects: Pick<ObjectStore, 'uri'>;
  }) {
    this.jobs = deps.jobs;
    this.weights = deps.weights;
    this.objects = deps.objects;
  }

  /** The object's URI while it still exists; undefined when the job names none, or it is gone. */
  async uriOf(row: Pick<JobRow, 'initial_weights'>): Promise<string | undefined> {
    const named = row.initial_weights;
    if (!named) return undefined;
    if ('weightsId' in named) {
      const weights = await this.weights.findById(named.weightsId);
      return weights && this.objects.uri(weights.objectKey);
    }
    return this.jobs.checkpointUri(named.jobId, named.checkpoint);
  }
}
