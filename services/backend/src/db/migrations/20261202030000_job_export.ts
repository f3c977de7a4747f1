import type { Knex } from 'knex';

/** The formats a job's best checkpoint is exported to after its training (`export` in the create body). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.specificType('export_formats', 'text[]').notNullable().defaultTo('{}');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('export_formats');
  });
}
