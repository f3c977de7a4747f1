// CPU time of process trees, from /proc (Linux): what the platform's own processes spend while a training runs.
import { readdir, readFile } from 'node:fs/promises';

/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

async function processStat(pid: number): Promise<{ name: string; ticks: number } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined; // it has exited
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // utime and stime, the 14th and 15th fields of the line.
  return { name: text.slice(text.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
}

async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(
    tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number));
}

/**
 * CPU seconds used so far by `roots` and their living descendants, leaving out each process whose name `skip`
 * matches, with its own descendants. A process that exited in between takes its time with it.
 */
export async function treeCpuSeconds(roots: number[], skip: (name: string) => boolean): Promise<number> {
  let ticks = 0;
  const pending = [...roots];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    const stat = await processStat(pid);
    if (!stat || skip(stat.name)) continue;
    ticks += stat.ticks;
    pending.push(...(await childrenOf(pid)));
  }
  return ticks / TICKS_PER_SECOND;
}
