import { readFile } from 'node:fs/promises';

/** Where the kernel counts this cgroup's out-of-memory kills: cgroup v2, then v1 (Linux 4.13+). */
const COUNTERS = ['/sys/fs/cgroup/memory.events', '/sys/fs/cgroup/memory/memory.oom_control'];

/**
 * How many processes of this cgroup (this container, or this machine's slice) the out-of-memory killer has
 * killed so far; undefined where the kernel does not say. Read before and after a runner dies of SIGKILL, it
 * tells the OOM killer's work from a kill -9 by a person or an agent.
 */
export async function oomKillCount(): Promise<number | undefined> {
  for (const file of COUNTERS) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const count = text && /^oom_kill (\d+)$/m.exec(text)?.[1];
    if (count) return Number(count);
  }
  return undefined;
}
