import type { Knex } from 'knex';

/**
 * Indexes that keep the list endpoints and the queue quota at index speed with 100,000s of jobs: each list is a
 * keyset page over (created_at, id) within one user (and one status when filtered), read straight off the index
 * in order; a dataset's jobs are found without a scan (deleting a dataset, its foreign key).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['user_id', 'created_at']);
    t.index(['user_id', 'created_at', 'id']);
    t.index(['user_id', 'status', 'created_at', 'id']);
    t.index(['dataset_id']);
  });
  await knex.schema.alterTable('datasets', (t) => {
    t.dropIndex(['user_id', 'created_at']);
    t.index(['user_id', 'created_at', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('datasets', (t) => {
    t.dropIndex(['user_id', 'created_at', 'id']);
    t.index(['user_id', 'created_at']);
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['dataset_id']);
    t.dropIndex(['user_id', 'status', 'created_at', 'id']);
    t.dropIndex(['user_id', 'created_at', 'id']);
    t.index(['user_id', 'created_at']);
  });
}
