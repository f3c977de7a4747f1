/**
 * What the console asks of the backend, through the typed client `@vtp/client`. The key travels in the
 * Authorization header only: the event and log streams are read with fetch (the client's `followJob`,
 * `readLogs`), not EventSource, which could carry it only in the URL.
 */
import {
  type ArtifactKind,
  createVtpClient,
  type DatasetFormat,
  type Framework,
  type JobCreateRequestBody,
  type JobStatus,
  unwrap,
} from '@vtp/client';

export type JobFilters = { status?: JobStatus; framework?: Framework };
export type JobAction = 'cancel' | 'resume';

export function createApi(apiKey: string, baseUrl = location.origin) {
  const vtp = createVtpClient({ baseUrl, apiKey });
  const path = (id: string) => ({ params: { path: { id } } });
  return {
    /** Checks the key: every key may list its own keys. */
    whoAmI: async () => unwrap(await vtp.api.GET('/v1/api-keys')).items[0]?.user ?? 'unknown user',
    models: async () => unwrap(await vtp.api.GET('/v1/models')),
    datasets: async () => unwrap(await vtp.api.GET('/v1/datasets', { params: { query: { limit: 200 } } })),
    dataset: async (id: string) => unwrap(await vtp.api.GET('/v1/datasets/{id}', path(id))),
    jobs: async (filters: JobFilters = {}) =>
      unwrap(await vtp.api.GET('/v1/jobs', { params: { query: { limit: 200, ...filters } } })),
    job: async (id: string) => unwrap(await vtp.api.GET('/v1/jobs/{id}', path(id))),
    createJob: async (body: JobCreateRequestBody) => unwrap(await vtp.api.POST('/v1/jobs', { body })),
    act: async (id: string, action: JobAction) =>
      unwrap(
        action === 'cancel'
          ? await vtp.api.POST('/v1/jobs/{id}/cancel', path(id))
          : await vtp.api.POST('/v1/jobs/{id}/resume', path(id)),
      ),
    uploadDataset: (
      file: File,
      fields: { name: string; format: DatasetFormat },
      onProgress: (sent: number, total: number) => void,
    ) =>
      vtp.uploadDataset({
        ...fields,
        file,
        filename: file.name,
        onProgress: ({ loaded, total }) => onProgress(loaded, total ?? file.size),
      }),
    /** A job's events from the first, then live until it ends (reconnecting after the last one received). */
    events: (id: string, signal: AbortSignal) => vtp.followJob(id, { signal }),
    /** The training log, followed live until the training ends. */
    log: (id: string, signal: AbortSignal) => vtp.readLogs(id, { follow: true, signal }),
    /** An artifact's bytes and stored name (the key cannot ride on a plain link, so the page saves a Blob). */
    async artifact(id: string, kind: ArtifactKind): Promise<{ blob: Blob; filename: string }> {
      const download = await vtp.downloadArtifact(id, kind);
      return { blob: await new Response(download.body).blob(), filename: download.filename };
    },
  };
}

export type Api = ReturnType<typeof createApi>;
