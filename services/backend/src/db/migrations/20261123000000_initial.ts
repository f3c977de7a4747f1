import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable().unique();
    t.boolean('is_admin').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    // sha256 of the key: keys are 256-bit random, so a slow hash adds nothing but latency.
    t.text('key_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
  });

  await knex.schema.createTable('datasets', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('format').notNullable();
    t.jsonb('class_names').notNullable();
    t.jsonb('image_counts').notNullable();
    t.bigInteger('bytes').notNullable();
    t.text('sha256').notNullable();
    t.text('object_key').notNullable();
    // Folder inside the zip that holds the dataset ('' when at the top).
    t.text('root').notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Deleted datasets keep their row (finished jobs still name them) but lose their file.
    t.timestamp('deleted_at', { useTz: true });
    t.index(['user_id', 'created_at']);
  });

  await knex.schema.createTable('jobs', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.uuid('dataset_id').notNullable().references('datasets.id').onDelete('RESTRICT');
    t.text('framework').notNullable();
    t.text('model').notNullable();
    t.jsonb('hyperparameters').notNullable();
    t.jsonb('resources');
    t.integer('max_duration_seconds');
    t.jsonb('initial_weights');
    t.text('status').notNullable();
    t.text('idempotency_key');
    t.text('request_hash').notNullable();
    t.text('callback_token_hash').notNullable();
    t.integer('epoch').notNullable().defaultTo(0);
    t.integer('total_epochs').notNullable().defaultTo(0);
    t.jsonb('latest_metrics');
    t.text('error_code');
    t.text('error_message');
    t.integer('attempts').notNullable().defaultTo(0);
    // Where the execution manager placed the job (trainer URL or Kubernetes Job name).
    t.jsonb('placement');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('dispatched_at', { useTz: true });
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('last_heartbeat_at', { useTz: true });
    t.timestamp('cancel_requested_at', { useTz: true });
    t.unique(['user_id', 'idempotency_key']);
    t.index(['user_id', 'created_at']);
    t.index(['status', 'created_at']);
    t.check(
      "status in ('queued','dispatching','running','succeeded','failed','cancelled')",
      [],
      'jobs_status_valid',
    );
  });

  await knex.schema.createTable('job_events', (t) => {
    t.uuid('job_id').notNullable().references('jobs.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.text('type').notNullable();
    t.timestamp('timestamp', { useTz: true }).notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.jsonb('payload').notNullable();
    t.primary(['job_id', 'seq']);
  });

  await knex.schema.createTable('artifacts', (t) => {
    t.uuid('job_id').notNullable().references('jobs.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('uri').notNullable();
    t.bigInteger('bytes').notNullable();
    t.integer('epoch');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['job_id', 'kind']);
  });

  // Live event streams on any replica wake on these: a stored event, or a job changing state by itself
  // (cancelled while queued, failed by the backend) with no event behind it.
  await knex.raw(`create function vtp_notify_job_status() returns trigger language plpgsql as $$
    begin
      perform pg_notify('vtp_job_events', new.id::text);
      return null;
    end $$`);
  await knex.raw(`create function vtp_notify_job_event() returns trigger language plpgsql as $$
    begin
      perform pg_notify('vtp_job_events', new.job_id::text);
      return null;
    end $$`);
  await knex.raw(`create trigger jobs_status_notify after update of status on jobs
    for each row when (old.status is distinct from new.status) execute function vtp_notify_job_status()`);
  await knex.raw(`create trigger job_events_notify after insert on job_events
    for each row execute function vtp_notify_job_event()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists job_events_notify on job_events');
  await knex.raw('drop trigger if exists jobs_status_notify on jobs');
  await knex.raw('drop function if exists vtp_notify_job_event(), vtp_notify_job_status()');
  for (const table of ['artifacts', 'job_events', 'jobs', 'datasets', 'api_keys', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
