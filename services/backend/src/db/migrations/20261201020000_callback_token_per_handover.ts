import type { Knex } from 'knex';

/**
 * Every hand-over of a job issues a callback token; a trainer that already runs the training keeps the one it
 * got first (a repeated start answers with the existing training, a re-adopted Kubernetes Job keeps its
 * Secret). So the hashes of all of a job's tokens are kept, any of them is accepted while the job is
 * unfinished, and all are revoked when it ends.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.specificType('callback_token_hashes', 'text[]').notNullable().defaultTo('{}');
  });
  await knex.raw(
    `update jobs set callback_token_hashes = array[callback_token_hash]
      where status in ('queued', 'dispatching', 'running')`,
  );
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('callback_token_hash');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.text('callback_token_hash').notNullable().defaultTo('');
  });
  await knex.raw(
    `update jobs set callback_token_hash = coalesce(callback_token_hashes[array_length(callback_token_hashes, 1)], '')`,
  );
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('callback_token_hashes');
  });
}
