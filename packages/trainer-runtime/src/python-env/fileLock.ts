import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockOptions {
  /** How often a waiter checks again. */
  pollMs?: number;
  /** Called while another live process holds the lock. */
  onWait?: (holderPid: number) => void;
}

/**
 * An exclusive lock between processes on one machine: a file created with O_EXCL that holds the owner's pid.
 * A lock whose owner died (crash, kill -9) is taken over. Returns the function that releases it.
 */
export async function acquireFileLock(
  path: string,
  options: FileLockOptions = {},
): Promise<() => Promise<void>> {
  const pollMs = options.pollMs ?? 500;
  const token = `${process.pid}:${Date.now()}:${Math.random()}`;
  for (;;) {
    try {
      await writeFile(path, token, { flag: 'wx' });
      return async () => {
        if ((await readLock(path)) === token) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readLock(path);
    if (holder === undefined) continue; // released between our attempt and the read
    const holderPid = Number(holder.split(':')[0]);
    if (!isAlive(holderPid)) {
      // Take over only the lock we judged stale: the content check keeps us from removing a new owner's lock.
      if ((await readLock(path)) === holder) await rm(path, { force: true });
      continue;
    }
    options.onWait?.(holderPid);
    await sleep(pollMs);
  }
}

async function readLock(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}
