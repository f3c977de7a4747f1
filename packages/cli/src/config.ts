import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './exitCodes.ts';

/** Where the API is and the key to call it with. */
export interface Connection {
  url: string;
  apiKey: string;
}

/** `$XDG_CONFIG_HOME/vtp/config.json` (`~/.config/vtp/config.json` by default). */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'vtp', 'config.json');
}

export async function readConfig(path = configPath()): Promise<Partial<Connection>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Connection>;
    return { url: parsed.url, apiKey: parsed.apiKey };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Saves the connection readable by its owner only (the key is a secret): folder 0700, file 0600. */
export async function writeConfig(connection: Connection, path = configPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(connection, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file: an older one is tightened too.
  await chmod(path, 0o600);
}

/** The connection: `VTP_URL` and `VTP_API_KEY` override what `vtp login` saved. */
export async function resolveConnection(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const saved = await readConfig(configPath(env));
  const url = env.VTP_URL || saved.url;
  const apiKey = env.VTP_API_KEY || saved.apiKey;
  if (!url || !apiKey) {
    throw new CliError('not logged in: run `vtp login`, or set VTP_URL and VTP_API_KEY');
  }
  return { url, apiKey };
}
