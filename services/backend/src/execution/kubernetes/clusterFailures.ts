import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import type { JobError } from '@vtp/shared-schemas';
import { CONTAINER_NAME } from './trainingJob.ts';

export interface FailureTiming {
  /** A pull that keeps failing this long is a missing image, not a registry hiccup. */
  imagePullGraceMs: number;
  unschedulableTimeoutMs: number;
  /** After the pod ended, time for the trainer's own last report to land before the backend speaks for it. */
  outcomeGraceMs: number;
}

/**
 * What the cluster knows about a training that its trainer cannot report. `release`: the Job would wait
 * forever (its pod never starts), so it must be deleted as well.
 */
export interface ClusterFailure {
  error: JobError;
  release: boolean;
}

/** The watch delivers JSON (timestamps as strings), lists deliver model objects (timestamps as Dates). */
function millis(time: Date | string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const value = new Date(time).getTime();
  return Number.isNaN(value) ? undefined : value;
}

function trainerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
}

function jobCondition(job: V1Job, type: 'Complete' | 'Failed') {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

const PULL_FAILURES = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull'];

/** Pull failures show no timestamp; the caller remembers when it first saw one for the pod. */
export function pullFailureOf(pod: V1Pod): string | undefined {
  const reason = trainerStatus(pod)?.state?.waiting?.reason;
  return reason && PULL_FAILURES.includes(reason) ? reason : undefined;
}

function podFailure(
  pod: V1Pod,
  now: number,
  timing: FailureTiming,
  pullFailingSince: number | undefined,
): ClusterFailure | undefined {
  const container = trainerStatus(pod);
  const terminated = container?.state?.terminated;
  if (terminated?.reason === 'OOMKilled') {
    const limit = pod.spec?.containers.find((c) => c.name === CONTAINER_NAME)?.resources?.limits?.memory;
    return {
      error: {
        code: 'out_of_memory',
        message: `The training ran out of memory${limit ? ` (limit ${limit})` : ''} and was killed; ask for more memory or use a smaller batch or image size`,
      },
      release: false,
    };
  }
  if (pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted') {
    return {
      error: {
        code: 'killed',
        message: `The node evicted the training: ${pod.status.message ?? 'no reason given'}`,
      },
      release: false,
    };
  }
  if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Pending') return undefined;
  const waiting = container?.state?.waiting;
  if (
    waiting &&
    pullFailureOf(pod) &&
    pullFailingSince !== undefined &&
    now - pullFailingSince >= timing.imagePullGraceMs
  ) {
    const image = pod.spec?.containers.find((c) => c.name === CONTAINER_NAME)?.image ?? 'unknown';
    return {
      error: {
        code: 'trainer_unavailable',
        message: `The trainer image ${image} cannot be pulled (${waiting.reason}): ${waiting.message ?? 'no details'}`,
      },
      release: true,
    };
  }
  const created = millis(pod.metadata?.creationTimestamp) ?? now;
  if (waiting?.reason === 'CreateContainerConfigError' && now - created >= timing.imagePullGraceMs) {
    return {
      error: {
        code: 'trainer_unavailable',
        message: `The training pod cannot start: ${waiting.message ?? 'its configuration is incomplete'}`,
      },
      release: true,
    };
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const since = millis(scheduled.lastTransitionTime) ?? created;
    if (now - since >= timing.unschedulableTimeoutMs) {
      return {
        error: {
          code: 'trainer_unavailable',
          message: `No node could take the training within ${Math.round(timing.unschedulableTimeoutMs / 1000)}s: ${scheduled.message ?? 'unschedulable'}`,
        },
        release: true,
      };
    }
  }
  return undefined;
}

/** The Job ended: what it says beyond "the trainer reported" (which, when it did, has already been recorded). */
function endedJobFailure(
  job: V1Job,
  pods: V1Pod[],
  now: number,
  timing: FailureTiming,
): ClusterFailure | undefined {
  const failed = jobCondition(job, 'Failed');
  if (failed?.reason === 'DeadlineExceeded') {
    return {
      error: {
        code: 'time_limit_exceeded',
        message: `The cluster stopped the training after ${job.spec?.activeDeadlineSeconds}s (its time limit plus slack)`,
      },
      release: false,
    };
  }
  const ended = failed ?? jobCondition(job, 'Complete');
  if (!ended) return undefined;
  const endedAt = millis(ended.lastTransitionTime) ?? millis(job.status?.completionTime) ?? now;
  if (now - endedAt < timing.outcomeGraceMs) return undefined;
  const terminated = pods.map((p) => trainerStatus(p)?.state?.terminated).find(Boolean);
  if (failed) {
    const exit = terminated ? `exited with code ${terminated.exitCode}` : 'failed';
    const last = terminated?.message?.trim().split('\n').slice(-5).join('\n');
    return {
      error: {
        code: 'framework_error',
        message: `The trainer ${exit} without reporting the outcome${last ? `; its last lines:\n${last}` : ''}`,
      },
      release: false,
    };
  }
  return {
    error: { code: 'lost', message: 'The trainer exited without reporting the outcome of the training' },
    release: false,
  };
}

/**
 * Maps the cluster's view of one training (its Job and pods) to the failure the trainer cannot report itself:
 * a pod that never starts (image, scheduling, configuration), a kill from outside (OOM, eviction, deadline), or
 * an exit without a final report. Pure: the caller supplies the clock and when it first saw a pull fail.
 */
export function clusterFailure(
  job: V1Job,
  pods: V1Pod[],
  now: number,
  timing: FailureTiming,
  pullFailingSince: (pod: V1Pod) => number | undefined = () => undefined,
): ClusterFailure | undefined {
  for (const pod of pods) {
    const failure = podFailure(pod, now, timing, pullFailingSince(pod));
    if (failure) return failure;
  }
  return endedJobFailure(job, pods, now, timing);
}
