import { randomBytes } from 'node:crypto';
import type { Kubelet } from './kubelet.ts';
import type { KubeObject, ResourceStore } from './resourceStore.ts';

const timestamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function podSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

function ended(job: KubeObject): boolean {
  return (job.status?.conditions ?? []).some(
    (c: { type: string; status: string }) =>
      (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

/**
 * The Job controller for what the backend asks of it: one pod per Job (backoffLimit 0), the Job's status from its
 * pod (active, succeeded, failed, Complete/Failed conditions), and activeDeadlineSeconds: past it the Job fails
 * with DeadlineExceeded and its pod is deleted.
 */
export class JobController {
  private readonly store: ResourceStore;
  private readonly kubelet: Kubelet;
  private readonly deadlines = new Map<string, NodeJS.Timeout>();

  constructor(store: ResourceStore, kubelet: Kubelet) {
    this.store = store;
    this.kubelet = kubelet;
  }

  jobCreated(job: KubeObject): void {
    const { namespace, name, uid } = job.metadata;
    const template = job.spec.template;
    const pod = this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-${podSuffix()}`,
        namespace,
        generateName: `${name}-`,
        labels: {
          ...template.metadata?.labels,
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': uid,
          'job-name': name,
        },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true }],
      } as KubeObject['metadata'],
      spec: { terminationGracePeriodSeconds: 30, ...template.spec },
      status: { phase: 'Pending', qosClass: 'Guaranteed' },
    });
    this.store.update('jobs', namespace, name, (j) => {
      j.status = { startTime: timestamp(), active: 1, ready: 0 };
    });
    const deadline = job.spec.activeDeadlineSeconds;
    if (deadline !== undefined) {
      this.deadlines.set(
        uid,
        setTimeout(() => this.deadlineExceeded(namespace, name, uid), deadline * 1000),
      );
    }
    this.kubelet.admit(pod);
  }

  jobDeleted(job: KubeObject): void {
    clearTimeout(this.deadlines.get(job.metadata.uid));
    this.deadlines.delete(job.metadata.uid);
  }

  private ownerOf(pod: KubeObject): KubeObject | undefined {
    const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'Job');
    const job = owner && this.store.get('jobs', pod.metadata.namespace, owner.name);
    return job?.metadata.uid === owner?.uid ? job : undefined;
  }

  podChanged(pod: KubeObject): void {
    const job = this.ownerOf(pod);
    if (!job || ended(job)) return;
    const phase = pod.status?.phase;
    const ready = phase === 'Running' ? 1 : 0;
    if (phase !== 'Succeeded' && phase !== 'Failed') {
      if (job.status?.ready !== ready)
        this.store.update('jobs', job.metadata.namespace, job.metadata.name, (j) => {
          j.status.ready = ready;
        });
      return;
    }
    this.jobDeleted(job);
    const now = timestamp();
    this.store.update('jobs', job.metadata.namespace, job.metadata.name, (j) => {
      j.status.active = 0;
      j.status.ready = 0;
      if (phase === 'Succeeded') {
        j.status.succeeded = 1;
        j.status.completionTime = now;
        j.status.conditions = [
          { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now },
        ];
      } else {
        j.status.failed = 1;
        j.status.conditions = [
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastProbeTime: now,
            lastTransitionTime: now,
          },
        ];
      }
    });
  }

  private deadlineExceeded(namespace: string, name: string, uid: string): void {
    this.deadlines.delete(uid);
    const job = this.store.get('jobs', namespace, name);
    if (!job || job.metadata.uid !== uid || ended(job)) return;
    const now = timestamp();
    this.store.update('jobs', namespace, name, (j) => {
      j.status.active = 0;
      j.status.ready = 0;
      j.status.failed = 1;
      j.status.conditions = [
        {
          type: 'Failed',
          status: 'True',
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
          lastProbeTime: now,
          lastTransitionTime: now,
        },
      ];
    });
    for (const pod of this.store.list('pods', namespace, `controller-uid=${uid}`))
      this.kubelet.terminate(namespace, pod.metadata.name);
  }

  stop(): void {
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
  }
}
