import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_SHUTDOWN_TIMED_OUT } from './lifecycle.ts';

const kit = join(import.meta.dirname, 'index.ts');

/** A service whose one shutdown hook takes `hookMs` (or never ends), stopped by SIGTERM with a 500 ms grace. */
function service(hookMs: number | 'never'): string {
  return `
import { createLogger, Lifecycle } from ${JSON.stringify(kit)};
const lifecycle = new Lifecycle(createLogger('lifecycle-test', 'silent'));
lifecycle.addShutdownHook('work', () => ${hookMs === 'never' ? 'new Promise(() => undefined)' : `new Promise((done) => setTimeout(done, ${hookMs}))`});
lifecycle.exitOnSignals(500);
setInterval(() => undefined, 1000); // a service keeps running until it is told to stop
process.stdout.write('ready\\n');
`;
}

function stopWithSigterm(script: string, signals = 1): Promise<{ code: number | null; ms: number }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let sentAt = 0;
    child.stdout.once('data', () => {
      sentAt = Date.now();
      for (let i = 0; i < signals; i++) child.kill('SIGTERM');
    });
    child.once('error', fail);
    child.once('exit', (code) => done({ code, ms: Date.now() - sentAt }));
  });
}

describe('Lifecycle stopped by a signal', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vtp-lifecycle-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs its hooks and exits 0, a repeated signal changing nothing', async () => {
    const script = join(dir, 'quick.ts');
    await writeFile(script, service(100));
    const { code, ms } = await stopWithSigterm(script, 2);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(100);
  });

  it('exits anyway, with its own code, when a hook never finishes', async () => {
    const script = join(dir, 'stuck.ts');
    await writeFile(script, service('never'));
    const { code, ms } = await stopWithSigterm(script);
    expect(code).toBe(EXIT_SHUTDOWN_TIMED_OUT);
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(5000);
  });
});
