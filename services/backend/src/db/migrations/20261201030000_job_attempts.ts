import type { Knex } from 'knex';

/**
 * Attempts: a job that failed for an infrastructure reason (or that its user resumes) runs again, continuing from
 * its last checkpoint. `jobs.attempt` is the current one; `job_attempts` keeps each with its outcome; every event
 * records the attempt that reported it. The hand-over count (`handovers`, was `attempts`) starts again with each
 * attempt, and `trained_seconds` carries the training time of ended attempts, so the time limit covers them all.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.renameColumn('attempts', 'handovers');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.integer('attempt').notNullable().defaultTo(1);
    t.integer('max_retries').notNullable().defaultTo(2);
    t.boolean('retry_on_out_of_memory').notNullable().defaultTo(false);
    t.integer('trained_seconds').notNullable().defaultTo(0);
    t.timestamp('attempt_started_at', { useTz: true });
  });
  await knex.raw('update jobs set attempt_started_at = started_at');
  await knex.schema.createTable('job_attempts', (t) => {
    t.uuid('job_id').notNullable().references('jobs.id').onDelete('CASCADE');
    t.integer('attempt').notNullable();
    /** The attempt's events are numbered from here. */
    t.integer('first_seq').notNullable();
    t.integer('resumed_from_epoch');
    t.text('status').notNullable();
    t.timestamp('started_at', { useTz: true });
    t.timestamp('ended_at', { useTz: true });
    t.text('error_code');
    t.text('error_message');
    t.primary(['job_id', 'attempt']);
  });
  await knex.raw(
    `insert into job_attempts (job_id, attempt, first_seq, status, started_at, ended_at, error_code, error_message)
     select id, 1, 1, case when status in ('queued', 'dispatching') then 'queued' else status end,
            started_at, finished_at, error_code, error_message
       from jobs`,
  );
  await knex.schema.alterTable('job_events', (t) => {
    t.integer('attempt').notNullable().defaultTo(1);
    t.boolean('superseded').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_events', (t) => {
    t.dropColumn('attempt');
    t.dropColumn('superseded');
  });
  await knex.schema.dropTable('job_attempts');
  await knex.schema.alterTable('jobs', (t) => {
    for (const column of [
      'attempt',
      'max_retries',
      'retry_on_out_of_memory',
      'trained_seconds',
      'attempt_started_at',
    ])
      t.dropColumn(column);
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.renameColumn('handovers', 'attempts');
  });
}
