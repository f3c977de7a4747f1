import type { Knex } from 'knex';
import * as initial from './20261123000000_initial.ts';
import * as jobTraceContext from './20261123010000_job_trace_context.ts';
import * as artifactSha256 from './20261201000000_artifact_sha256.ts';
import * as jobProgressWatch from './20261201010000_job_progress_watch.ts';
import * as callbackTokenPerHandover from './20261201020000_callback_token_per_handover.ts';
import * as jobAttempts from './20261201030000_job_attempts.ts';
import * as jobQueuedAt from './20261202000000_job_queued_at.ts';
import * as listIndexes from './20261202010000_list_indexes.ts';
import * as jobTracking from './20261202020000_job_tracking.ts';
import * as jobExport from './20261202030000_job_export.ts';
import * as weights from './20261202040000_weights.ts';

type Migration = { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> };

/** Migrations in order, imported statically so they need no file-system discovery at run time. */
const migrations: Record<string, Migration> = {
  '20261123000000_initial': initial,
  '20261123010000_job_trace_context': jobTraceContext,
  '20261201000000_artifact_sha256': artifactSha256,
  '20261201010000_job_progress_watch': jobProgressWatch,
  '20261201020000_callback_token_per_handover': callbackTokenPerHandover,
  '20261201030000_job_attempts': jobAttempts,
  '20261202000000_job_queued_at': jobQueuedAt,
  '20261202010000_list_indexes': listIndexes,
  '20261202020000_job_tracking': jobTracking,
  '20261202030000_job_export': jobExport,
  '20261202040000_weights': weights,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`Unknown migration ${name}`);
    return migration;
  },
};
