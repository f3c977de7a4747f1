import type { Knex } from 'knex';

/**
 * Model export: `export_formats`, the formats a job's best checkpoint is exported to after its training (`export`
 * in the create body); `kind`, `export` for a job that only exports the best checkpoint of an earlier job (named by
 * its `initial_weights`), queued by `POST /v1/jobs/{id}/exports`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.specificType('export_formats', 'text[]').notNullable().defaultTo('{}');
    t.text('kind').notNullable().defaultTo('training');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('export_formats');
    t.dropColumn('kind');
  });
}
