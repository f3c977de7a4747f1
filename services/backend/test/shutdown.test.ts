import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort, isAlive } from '@vtp/service-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestBackend } from './support/testBackend.ts';
import { createThrowawayDatabase } from './support/throwawayDatabase.ts';
import { rawDatasetUpload, uploadSample } from './support/uploads.ts';

const mainScript = join(import.meta.dirname, '..', 'src', 'main.ts');

/** Starts `src/main.ts` as a user would, on embedded defaults, and waits for its "ready" banner. */
async function startMain(dataDir: string, s3Port: number) {
  const { DATABASE_URL, S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ADMIN_API_KEY, ...env } =
    process.env;
  const child = spawn(process.execPath, [mainScript], {
    env: { ...env, PORT: '0', DATA_DIR: dataDir, EMBEDDED_S3_PORT: String(s3Port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const ready = new Promise<{ url: string; adminKey: string }>((done, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Backend ready at (\S+).*\n\s*Admin API key: (\S+)/s.exec(output);
      if (match?.[1] && match[2]) done({ url: match[1], adminKey: match[2] });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(({ code }) =>
      fail(new Error(`backend exited with ${code} before it was ready:\n${output}`)),
    );
  });
  return { child, ready: await ready, exited, output: () => output };
}

/** A multipart upload whose body is sent in two halves, the second only when `finish` is called. */
async function startSlowUpload(url: string, key: string) {
  const { req, body } = await rawDatasetUpload(url, key);
  const response = new Promise<{ status: number; text: string }>((done, fail) => {
    req.once('error', fail);
    req.once('response', (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.once('end', () => done({ status: res.statusCode ?? 0, text }));
    });
  });
  const half = Math.floor(body.length / 2);
  req.write(body.subarray(0, half));
  return { response, finish: () => req.end(body.subarray(half)) };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

describe('SIGTERM on the backend (embedded defaults)', () => {
  let dataDir: string | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes the request in flight, stops the embedded servers, and exits with its own code 0', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vtp-shutdown-'));
    const s3Port = await freePort();
    const backend = await startMain(dataDir, s3Port);
    child = backend.child;
    const postmasterPid = Number.parseInt(
      await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8'),
      10,
    );
    expect(isAlive(postmasterPid)).toBe(true);
    expect(await accepts(s3Port)).toBe(true);

    const upload = await startSlowUpload(backend.ready.url, backend.ready.adminKey);
    await sleep(300);
    backend.child.kill('SIGTERM');
    // Shutdown is now waiting for the upload; the database and object store must still serve it.
    await sleep(1000);
    expect(backend.child.exitCode).toBeNull();
    upload.finish();
    const answer = await upload.response;
    expect(answer.status, answer.text).toBe(201);

    const exit = await backend.exited;
    expect(exit, backend.output()).toEqual({ code: 0, signal: null });
    expect(isAlive(postmasterPid)).toBe(false);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(await accepts(s3Port)).toBe(false);
  });
});

describe('a backend killed outright (SIGKILL runs no exit hook)', () => {
  let dataDir: string | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGTERM');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves its embedded PostgreSQL behind, which the next start on the same DATA_DIR stops and replaces', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vtp-killed-'));
    const first = await startMain(dataDir, await freePort());
    const leftover = Number.parseInt(await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8'), 10);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isAlive(leftover)).toBe(true);

    const second = await startMain(dataDir, await freePort());
    child = second.child;
    expect(isAlive(leftover)).toBe(false);
    expect((await fetch(`${second.ready.url}/readyz`)).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});

describe('a backend started with EXIT_WITH_PARENT (as the demo starts it)', () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shuts down when the process that started it dies', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'vtp-orphan-backend-'));
    const database = await createThrowawayDatabase();
    try {
      // A shell starts the backend in the background, prints its pid and dies once the backend is loading (its
      // start-up takes longer, on a busy machine): the backend is orphaned.
      const { stdout } = await promisify(execFile)(
        'bash',
        ['-c', `"${process.execPath}" "${mainScript}" >/dev/null 2>&1 & echo $!; sleep 5`],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            PORT: '0',
            DATABASE_URL: database.url,
            DATA_DIR: dataDir,
            ADMIN_API_KEY: 'vtp_orphan_test_admin_key_0123456789',
            EXIT_WITH_PARENT: 'true',
          },
        },
      );
      const pid = Number(stdout.trim());
      expect(pid).toBeGreaterThan(0);
      const deadline = Date.now() + 30_000;
      while (isAlive(pid) && Date.now() < deadline) await sleep(200);
      const survived = isAlive(pid);
      if (survived) process.kill(pid, 'SIGKILL');
      expect(survived).toBe(false);
    } finally {
      await database.drop();
    }
  });
});

describe('open event streams when the backend stops', () => {
  it('end at once, so the stop does not wait for jobs that are still running', async () => {
    const t = await startTestBackend();
    try {
      const user = await t.newUser();
      const dataset = await uploadSample(user, 'imagefolder');
      const created = await user.post<{ id: string }>('/v1/jobs', {
        framework: 'timm',
        model: 'test_resnet',
        datasetId: dataset.id,
      });
      const res = await fetch(`${t.backend.url}/v1/jobs/${created.body.id}/events`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${user.key}` },
      });
      const body = res.text();
      const started = Date.now();
      await t.backend.stop();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await body).toContain('retry:');
    } finally {
      await t.stop();
    }
  });
});
