import type { Knex } from 'knex';

/** The W3C trace context of the request that created the job, so its training continues that trace. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.jsonb('trace_context');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('trace_context');
  });
}
