import type { Job } from '@vtp/shared-schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from './support/apiClient.ts';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';
import { uploadSample } from './support/uploads.ts';

/** The console as the backend serves it: caching, Content-Security-Policy, and the artifact download's guards. */
describe('web console serving', () => {
  let t: TestBackend;
  let user: ApiClient;

  beforeAll(async () => {
    t = await startTestBackend();
    user = await t.newUser();
  });
  afterAll(() => t?.stop());

  const get = (path: string) => fetch(`${t.backend.url}${path}`);

  it('serves index.html revalidated on every load, under a CSP that allows no inline code', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)|\*/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    // Every script and stylesheet is a file of its own: nothing inline for the CSP to refuse.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves the hashed assets as immutable for a year, and 404 for any other', async () => {
    const html = await (await get('/')).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(assets).toEqual([
      expect.stringMatching(/^\/assets\/main-[A-Z0-9]{8}\.css$/),
      expect.stringMatching(/^\/assets\/main-[A-Z0-9]{8}\.js$/),
    ]);
    for (const asset of assets) {
      const res = await get(asset);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.js') ? /javascript/ : /text\/css/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect((await res.text()).length).toBeGreaterThan(1000);
    }
    const missing = await get('/assets/main-00000000.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it("downloads only its owner's existing artifacts, naming what is missing", async () => {
    const dataset = await uploadSample(user, 'imagefolder');
    const job = await user.post<Job>('/v1/jobs', {
      framework: 'timm',
      model: 'test_resnet',
      datasetId: dataset.id,
    });
    expect(job.status).toBe(201);
    const none = await user.get(`/v1/jobs/${job.body.id}/artifacts/best`);
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ code: 'artifact_not_found' });
    const other = await (await t.newUser()).get(`/v1/jobs/${job.body.id}/artifacts/best`);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 'job_not_found' });
    const badKind = await user.get(`/v1/jobs/${job.body.id}/artifacts/weights`);
    expect(badKind.status).toBe(422);
    expect(badKind.text).toContain('path.kind');
    const anonymous = await t.anonymous.get(`/v1/jobs/${job.body.id}/artifacts/best`);
    expect(anonymous.status).toBe(401);
  });
});
