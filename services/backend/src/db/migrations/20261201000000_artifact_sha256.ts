import type { Knex } from 'knex';

/** The sha256 of each artifact's bytes, as the trainer verified them on their way to S3 (null for older rows). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('artifacts', (t) => {
    t.string('sha256', 64);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('artifacts', (t) => {
    t.dropColumn('sha256');
  });
}
