import type { Knex } from 'knex';

/** What the trainer last said of a training's progress: its phase, when it last advanced, its stall limit. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.text('phase');
    t.timestamp('last_progress_at', { useTz: true });
    t.integer('stall_limit_seconds');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('phase');
    t.dropColumn('last_progress_at');
    t.dropColumn('stall_limit_seconds');
  });
}
