import { describe, expect, it } from 'vitest';
import { href, parseRoute } from '../src/route.ts';

const id = '0b8e2f4c-6c1d-4a57-9d0e-3f5a1b2c3d4e';

describe('routes', () => {
  it('reads every page back from the link that names it', () => {
    expect(parseRoute(href.job(id))).toEqual({ name: 'job', section: 'jobs', id });
    expect(parseRoute(href.dataset(id))).toEqual({ name: 'dataset', section: 'datasets', id });
    expect(parseRoute(href.train(id))).toEqual({ name: 'train', section: 'jobs', datasetId: id });
    expect(parseRoute(href.train())).toEqual({ name: 'train', section: 'jobs', datasetId: undefined });
    expect(parseRoute(href.compare([id, id]))).toEqual({
      name: 'compare',
      section: 'compare',
      jobIds: [id, id],
    });
    expect(parseRoute('#/datasets')).toEqual({ name: 'datasets', section: 'datasets' });
  });

  it('opens the jobs list for an empty or unknown hash, and the chooser for a compare of no jobs', () => {
    for (const hash of ['', '#', '#/', '#/nowhere'])
      expect(parseRoute(hash)).toEqual({ name: 'jobs', section: 'jobs' });
    expect(parseRoute('#/compare?jobs=')).toEqual({ name: 'compare', section: 'compare', jobIds: [] });
  });
});
