// `npm run migrate`: applies pending migrations to DATABASE_URL (the backend also does this at start-up).
import { ConfigError, createLogger } from '@vtp/service-kit';
import { loadBackendConfig } from '../config.ts';
import { createDatabase, migrateLatest } from '../db/database.ts';
import { startEmbeddedPostgres } from '../embedded/postgres.ts';

try {
  const config = loadBackendConfig(process.env);
  const logger = createLogger('migrate', config.LOG_LEVEL);
  const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres(config.DATA_DIR, logger);
  const db = createDatabase(config.DATABASE_URL ?? (embedded?.url as string));
  try {
    const applied = await migrateLatest(db);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'already up to date');
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
