import type { Job } from '@vtp/shared-schemas';
import type { ApiClient } from './apiClient.ts';

/** Creates a job of the user's: yolo11n on `datasetId` unless `body` says otherwise. Throws when refused. */
export async function createJob(
  user: ApiClient,
  datasetId: string,
  body: Record<string, unknown> = {},
): Promise<Job> {
  const res = await user.post<Job>('/v1/jobs', {
    framework: 'ultralytics',
    model: 'yolo11n',
    datasetId,
    ...body,
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.text}`);
  return res.body;
}

/** Reports one event as a trainer does, with the job's callback token, stamped now. */
export function reportEvent(client: ApiClient, jobId: string, token: string, event: Record<string, unknown>) {
  return client.post<{ accepted: boolean }>(
    `/v1/jobs/${jobId}/callback`,
    { timestamp: new Date().toISOString(), ...event },
    { key: token },
  );
}
