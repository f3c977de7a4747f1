// The soak's PostgreSQL (embedded, under the given directory) in a process of its own, so that it stops with
// the soak however the soak ends. Prints its URL as one JSON line once it accepts connections.
import { createLogger } from '@vtp/service-kit';
import { startEmbeddedPostgres } from '../../services/backend/src/embedded/postgres.ts';
import { stopWithParent } from './childLifetime.ts';

const [directory] = process.argv.slice(2);
if (!directory) throw new Error('usage: postgres.ts <directory>');
const db = await startEmbeddedPostgres(directory, createLogger('soak-postgres', 'warn'));
process.stdout.write(`${JSON.stringify({ url: db.url })}\n`);
stopWithParent(() => db.stop());
