import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from './support/testBackend.ts';

describe('auth and API keys', () => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await startTestBackend();
  });
  afterAll(() => t?.stop());

  it('health, readiness, metrics and the API reference need no key', async () => {
    expect((await t.anonymous.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await t.anonymous.get<{ ready: boolean }>('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.ready).toBe(true);
    const metrics = await fetch(`${t.backend.url}/metrics`).then((r) => r.text());
    expect(metrics).toContain('vtp_backend_http_request_duration_seconds_bucket');
    const docs = await fetch(`${t.backend.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/docs/scalar.js');
    const script = await fetch(`${t.backend.url}/docs/scalar.js`);
    expect(script.status).toBe(200);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const openapi = (await fetch(`${t.backend.url}/openapi.json`).then((r) => r.json())) as {
      openapi: string;
    };
    expect(openapi.openapi).toBe('3.1.0');
  });

  it.each([
    ['no header', null, 'missing_api_key'],
    ['an unknown key', 'vtp_not-a-real-key', 'invalid_api_key'],
  ])('every /v1 route refuses %s with a 401 problem', async (_label, key, code) => {
    for (const [method, path] of [
      ['GET', '/v1/jobs'],
      ['GET', '/v1/datasets'],
      ['POST', '/v1/api-keys'],
      ['POST', '/v1/jobs'],
    ] as const) {
      const res = await t.anonymous.request<{ code: string }>(method, path, {
        key,
        json: method === 'POST' ? {} : undefined,
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe(code);
    }
  });

  it('the admin creates a user key that is shown once and works; only the admin may create keys', async () => {
    const created = await t.admin.post<{ key: string; user: string }>('/v1/api-keys', {
      user: 'ada@example.com',
      name: 'laptop',
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^vtp_/);
    const ada = t.anonymous.as(created.body.key);
    expect((await ada.get('/v1/jobs')).status).toBe(200);
    const refused = await ada.post<{ code: string }>('/v1/api-keys', { user: 'eve@example.com' });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('admin_only');
  });

  it('names the offending field of a bad key request and refuses the reserved admin user', async () => {
    const bad = await t.admin.post<{ issues: { path: string }[] }>('/v1/api-keys', { user: '', extra: 1 });
    expect(bad.status).toBe(422);
    expect(bad.body.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['body.user', 'body']));
    const reserved = await t.admin.post<{ code: string }>('/v1/api-keys', { user: 'admin' });
    expect(reserved.status).toBe(409);
    expect(reserved.body.code).toBe('reserved_user');
  });

  it('lists keys without their secrets and revokes them at once: your own, or any for the admin', async () => {
    type Key = { id: string; user: string; name: string };
    const create = async (user: string, name: string) =>
      (await t.admin.post<{ id: string; key: string }>('/v1/api-keys', { user, name })).body;
    const adaLaptop = await create('ada@keys.example', 'laptop');
    const adaCi = await create('ada@keys.example', 'ci');
    const bob = await create('bob@keys.example', 'laptop');
    const ada = t.anonymous.as(adaLaptop.key);

    const own = await ada.get<{ items: Key[] }>('/v1/api-keys');
    expect(own.body.items.map((k) => k.name)).toEqual(['laptop', 'ci']);
    expect(own.text).not.toContain(adaLaptop.key);
    expect((await ada.delete(`/v1/api-keys/${bob.id}`)).status).toBe(404);
    expect((await ada.delete(`/v1/api-keys/${adaCi.id}`)).status).toBe(204);
    expect((await t.anonymous.as(adaCi.key).get('/v1/datasets')).status).toBe(401);
    expect((await ada.get('/v1/datasets')).status).toBe(200);

    const all = await t.admin.get<{ items: Key[] }>('/v1/api-keys');
    expect(all.body.items.map((k) => k.user)).toEqual(
      expect.arrayContaining(['admin', 'ada@keys.example', 'bob@keys.example']),
    );
    expect((await t.admin.delete(`/v1/api-keys/${bob.id}`)).status).toBe(204);
    expect((await t.anonymous.as(bob.key).get('/v1/datasets')).status).toBe(401);
    const adminKey = all.body.items.find((k) => k.user === 'admin');
    const refused = await t.admin.delete<{ code: string }>(`/v1/api-keys/${adminKey?.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('admin_key');
  });

  it('answers malformed JSON with a 400 problem and unknown routes with a 404 problem', async () => {
    const res = await fetch(`${t.backend.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.admin.key}`, 'content-type': 'application/json' },
      body: '{"framework":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('malformed_json');
    const missing = await fetch(`${t.backend.url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });
});
