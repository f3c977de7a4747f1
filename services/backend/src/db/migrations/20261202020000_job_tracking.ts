import type { Knex } from 'knex';

/**
 * Where a job's training is tracked: `{mlflow: {trackingUri, experiment, experimentId?, runId?}}`, set when the
 * job is created on a platform with MLflow (the server and experiment it was created for), completed with the run
 * its trainer reports; null when the job is not tracked.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.jsonb('tracking');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('tracking');
  });
}
