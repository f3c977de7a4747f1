import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '@vtp/service-kit';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const entry = join(import.meta.dirname, '..', '..', '..', 'services', 'trainer-timm', 'src', 'main.ts');

describe('a trainer started with EXIT_WITH_PARENT', () => {
  let workDir: string | undefined;
  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('shuts down when the process that started it dies', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'vtp-orphan-'));
    // A shell starts the trainer in the background, prints its pid and dies once the trainer is loading (its
    // start-up takes longer, on a busy machine): the trainer is orphaned.
    const { stdout } = await run(
      'bash',
      ['-c', `"${process.execPath}" "${entry}" serve >/dev/null 2>&1 & echo $!; sleep 5`],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          PORT: '0',
          TRAINER_TOKEN: 'token-for-the-orphan-test-000000',
          WORK_DIR: workDir,
          EXIT_WITH_PARENT: 'true',
        },
      },
    );
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    const deadline = Date.now() + 15_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const survived = isAlive(pid);
    if (survived) process.kill(pid, 'SIGKILL');
    expect(survived).toBe(false);
  });
});
