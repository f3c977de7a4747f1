import { readdir, readFile } from 'node:fs/promises';

export interface SeenProcess {
  pid: number;
  command: string;
}

/**
 * Live processes (other than this one) whose command line or environment mentions `marker` (the soak's data
 * dir): the backend, its trainers (WORK_DIR), their runners (config path), PostgreSQL (-D). Linux /proc only.
 */
export async function processesMentioning(marker: string): Promise<SeenProcess[]> {
  const found: SeenProcess[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      const environment = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      if (command && (command.includes(marker) || environment.includes(marker))) found.push({ pid, command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
