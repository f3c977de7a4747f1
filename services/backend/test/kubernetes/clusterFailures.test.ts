import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { clusterFailure } from '../../src/execution/kubernetes/clusterFailures.ts';

const timing = { imagePullGraceMs: 60_000, unschedulableTimeoutMs: 300_000, outcomeGraceMs: 15_000 };
const t0 = Date.parse('2026-11-23T10:00:00Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();

const runningJob: V1Job = { metadata: { name: 'vtp-train-x', uid: 'job-uid' }, status: { active: 1 } };

function endedJob(type: 'Complete' | 'Failed', reason?: string): V1Job {
  return {
    ...runningJob,
    spec: { activeDeadlineSeconds: 660, template: {} },
    status: { conditions: [{ type, status: 'True', reason, lastTransitionTime: at(0) as never }] },
  };
}

function pod(status: V1Pod['status'], extra: Partial<V1Pod> = {}): V1Pod {
  return {
    metadata: { name: 'vtp-train-x-abcde', uid: 'pod-uid', creationTimestamp: at(0) as never },
    spec: {
      containers: [
        { name: 'trainer', image: 'ghcr.io/vtp/trainer-timm:1', resources: { limits: { memory: '4Gi' } } },
      ],
    },
    status,
    ...extra,
  };
}

const waiting = (reason: string, message = 'details') =>
  pod({
    phase: 'Pending',
    containerStatuses: [
      {
        name: 'trainer',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason, message } },
      },
    ],
  });

const terminated = (reason: string, exitCode: number, message?: string) =>
  pod({
    phase: 'Failed',
    containerStatuses: [
      {
        name: 'trainer',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { reason, exitCode, message } },
      },
    ],
  });

describe('cluster failures', () => {
  it('says nothing about a training that runs', () => {
    const running = pod({
      phase: 'Running',
      containerStatuses: [
        { name: 'trainer', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } },
      ],
    });
    expect(clusterFailure(runningJob, [running], t0 + 3600_000, timing)).toBeUndefined();
  });

  it('waits out the pull grace before calling an image missing, then releases the Job', () => {
    const pulling = waiting('ImagePullBackOff', 'Back-off pulling image');
    const seenAt = () => t0;
    expect(clusterFailure(runningJob, [pulling], t0 + 59_000, timing, seenAt)).toBeUndefined();
    expect(clusterFailure(runningJob, [pulling], t0 + 60_000, timing, seenAt)).toEqual({
      error: {
        code: 'trainer_unavailable',
        message: expect.stringContaining('ghcr.io/vtp/trainer-timm:1 cannot be pulled (ImagePullBackOff)'),
      },
      release: true,
    });
  });

  it('reports a pod that cannot get its configuration (a missing Secret)', () => {
    const failure = clusterFailure(
      runningJob,
      [waiting('CreateContainerConfigError', 'secret "vtp-storage" not found')],
      t0 + 61_000,
      timing,
    );
    expect(failure?.error).toEqual({
      code: 'trainer_unavailable',
      message: 'The training pod cannot start: secret "vtp-storage" not found',
    });
    expect(failure?.release).toBe(true);
  });

  it('gives the scheduler its timeout, counted from the condition', () => {
    const refused = pod({
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
          lastTransitionTime: at(100) as never,
        },
      ],
    });
    expect(clusterFailure(runningJob, [refused], t0 + 399_000, timing)).toBeUndefined();
    expect(clusterFailure(runningJob, [refused], t0 + 400_000, timing)?.error).toEqual({
      code: 'trainer_unavailable',
      message:
        'No node could take the training within 300s: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
    });
  });

  it('maps kills from outside: OOMKilled, eviction, the deadline', () => {
    expect(
      clusterFailure(endedJob('Failed', 'BackoffLimitExceeded'), [terminated('OOMKilled', 137)], t0, timing)
        ?.error.code,
    ).toBe('out_of_memory');
    const evicted = pod({
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
    });
    expect(clusterFailure(runningJob, [evicted], t0, timing)?.error).toEqual({
      code: 'killed',
      message: 'The node evicted the training: The node was low on resource: memory.',
    });
    expect(clusterFailure(endedJob('Failed', 'DeadlineExceeded'), [], t0, timing)?.error.code).toBe(
      'time_limit_exceeded',
    );
  });

  it('speaks for a trainer that ended without a report only after the outcome grace', () => {
    const crashed = [terminated('Error', 1, 'line 1\nRuntimeError: CUDA error')];
    const failed = endedJob('Failed', 'BackoffLimitExceeded');
    expect(clusterFailure(failed, crashed, t0 + 14_000, timing)).toBeUndefined();
    expect(clusterFailure(failed, crashed, t0 + 15_000, timing)?.error).toEqual({
      code: 'framework_error',
      message:
        'The trainer exited with code 1 without reporting the outcome; its last lines:\nline 1\nRuntimeError: CUDA error',
    });
    expect(clusterFailure(endedJob('Complete'), [], t0 + 15_000, timing)?.error.code).toBe('lost');
  });

  it('ignores a pod that is being deleted (a cancel)', () => {
    const deleting = waiting('ImagePullBackOff');
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: at(0) as never };
    expect(clusterFailure(runningJob, [deleting], t0 + 3600_000, timing, () => t0)).toBeUndefined();
  });
});
