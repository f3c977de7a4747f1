import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@vtp/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAdapter } from '../../test/fakeAdapter.ts';
import { runnerHelperDir } from '../paths.ts';
import { signalProcess } from '../runner/processGroup.ts';
import { WeightsChecker } from './weightsCheck.ts';

const CONTENT = Buffer.from('pretend these are weights');

/**
 * The trainer's side of a weights check with a stand-in check script (test/fake_check_weights.py under the system
 * python3): the real download, process, time limit and clean-up. The real frameworks' checks run in the backend's
 * test/e2e/weights.test.ts.
 */
describe('WeightsChecker', () => {
  let dir: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-weights-check-'));
    server = createServer((_req, res) => res.end(CONTENT));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/weights`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await rm(dir, { recursive: true, force: true });
  });

  const checker = (timeoutMs = 30_000) =>
    new WeightsChecker({
      adapter: fakeAdapter(join(dir, 'pid')),
      python: 'python3',
      runnerHelperDir,
      workDir: dir,
      limits: { timeoutMs, maxMemoryBytes: 2 ** 30, concurrency: 1 },
      logger: createLogger('test', 'silent'),
    });
  const request = (model: string, sha256 = createHash('sha256').update(CONTENT).digest('hex')) => ({
    framework: 'timm' as const,
    model,
    url,
    bytes: CONTENT.length,
    sha256,
  });
  const leftovers = async () =>
    (await readdir(join(dir, 'weights-checks')).catch(() => [])).filter((f) => f !== 'hanging.pid');

  it('passes on what the script found in the downloaded file', async () => {
    expect(await checker().check(request('fits'))).toEqual({
      valid: true,
      summary: { format: 'safetensors', numClasses: 3, classNames: null, tensors: CONTENT.length },
    });
    expect(await leftovers()).toEqual([]);
  });

  it("passes on the script's problem with the file", async () => {
    expect(await checker().check(request('misfits'))).toEqual({
      valid: false,
      problem: 'the weights do not fit misfits',
    });
  });

  it('a crash of the loader is the file refused, saying how it ended', async () => {
    const verdict = await checker().check(request('crashes'));
    expect(verdict).toEqual({ valid: false, problem: expect.stringContaining('SIGSEGV') });
  });

  it('kills a check past its time limit and refuses the file', async () => {
    const verdict = await checker(3000).check(request('hangs'));
    expect(verdict).toEqual({ valid: false, problem: 'loading the file took longer than the 3s limit' });
    const pid = Number(await readFile(join(dir, 'weights-checks', 'hanging.pid'), 'utf8'));
    expect(signalProcess(pid, 0)).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses a download that is not the upload (no retry would change it), without loading it', async () => {
    expect(await checker().check(request('fits', '0'.repeat(64)))).toEqual({
      valid: false,
      problem: expect.stringMatching(/^the file read back from storage is not the upload/),
    });
    expect(await leftovers()).toEqual([]);
  });

  it('runs one check at a time; another is told to come back', async () => {
    const busy = checker(3000);
    const first = busy.check(request('hangs'));
    await expect(busy.check(request('fits'))).rejects.toMatchObject({ status: 503 });
    await first;
  });

  it("the check's sandbox: no sockets, and a memory limit the process cannot pass", async () => {
    const script = [
      'import socket, vtp_weights',
      'vtp_weights.sandbox(512 * 2**20)',
      'results = []',
      'for attempt in (lambda: socket.socket().connect(("127.0.0.1", 9)), lambda: socket.getaddrinfo("example.com", 80)):',
      '    try: attempt(); results.append("reached")',
      '    except PermissionError as e: results.append(str(e))',
      'try: bytearray(1024 * 2**20); results.append("allocated")',
      'except MemoryError: results.append("MemoryError")',
      'print("|".join(results))',
    ].join('\n');
    const { stdout } = await promisify(execFile)('python3', ['-c', script], {
      env: { ...process.env, PYTHONPATH: runnerHelperDir },
    });
    expect(stdout.trim().split('|')).toEqual([
      'network access is disabled while weights are checked (socket.connect)',
      'network access is disabled while weights are checked (socket.getaddrinfo)',
      'MemoryError',
    ]);
  });
});
