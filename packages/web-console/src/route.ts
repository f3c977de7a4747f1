/** The console's pages, named by the URL's hash (ids only: the API key never enters a URL). */
export type Route =
  | { name: 'jobs'; section: 'jobs' }
  | { name: 'job'; section: 'jobs'; id: string }
  | { name: 'train'; section: 'jobs'; datasetId: string | undefined }
  | { name: 'datasets'; section: 'datasets' }
  | { name: 'dataset'; section: 'datasets'; id: string }
  | { name: 'compare'; section: 'compare'; jobIds: string[] };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(query);
  const [section, id] = path.split('/').map(decodeURIComponent);
  if (section === 'datasets') return id ? { name: 'dataset', section, id } : { name: 'datasets', section };
  if (section === 'train')
    return { name: 'train', section: 'jobs', datasetId: params.get('dataset') ?? undefined };
  if (section === 'compare')
    return { name: 'compare', section, jobIds: (params.get('jobs') ?? '').split(',').filter(Boolean) };
  if (section === 'jobs' && id) return { name: 'job', section, id };
  return { name: 'jobs', section: 'jobs' };
}

export const href = {
  job: (id: string) => `#/jobs/${encodeURIComponent(id)}`,
  dataset: (id: string) => `#/datasets/${encodeURIComponent(id)}`,
  train: (datasetId?: string) => (datasetId ? `#/train?dataset=${encodeURIComponent(datasetId)}` : '#/train'),
  compare: (jobIds: string[]) => `#/compare?jobs=${jobIds.map(encodeURIComponent).join(',')}`,
};
