import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@vtp/service-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetForm, sampleZip } from './support/uploads.ts';

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
  const form = datasetForm({ name: 'in flight', format: 'imagefolder' }, await sampleZip('imagefolder'));
  const encoded = new Request(url, { method: 'POST', body: form });
  const body = Buffer.from(await encoded.arrayBuffer());
  const req = request(`${url}/v1/datasets`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': encoded.headers.get('content-type') ?? '',
      'content-length': body.length,
    },
  });
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
    expect(alive(postmasterPid)).toBe(true);
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
    expect(alive(postmasterPid)).toBe(false);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(await accepts(s3Port)).toBe(false);
  });
});
