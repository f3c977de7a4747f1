// The soak's PostgreSQL (embedded, under the given directory) in a process of its own, so that it stops with
// the soak however the soak ends: on SIGTERM, or when its parent is gone (a SIGKILL runs no exit hook). Prints
// its URL as one JSON line once it accepts connections.
import { createLogger } from '@vtp/service-kit';
import { startEmbeddedPostgres } from '../../services/backend/src/embedded/postgres.ts';

const [directory] = process.argv.slice(2);
if (!directory) throw new Error('usage: postgres.ts <directory>');
const db = await startEmbeddedPostgres(directory, createLogger('soak-postgres', 'warn'));
process.stdout.write(`${JSON.stringify({ url: db.url })}\n`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void db.stop().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    stop();
  }
}, 1000).unref();
