import type { Knex } from 'knex';

/**
 * Starting weights users upload (POST /v1/weights): one row per file that passed its check, the file under
 * `weights/<user>/<id>/`. Deleted weights keep their row (finished jobs still name them) but lose their file.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('weights', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('framework').notNullable();
    t.text('model').notNullable();
    t.text('file_name').notNullable();
    t.text('format').notNullable();
    t.integer('num_classes');
    t.jsonb('class_names');
    t.integer('tensors').notNullable();
    t.bigInteger('bytes').notNullable();
    t.text('sha256').notNullable();
    t.text('object_key').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('deleted_at', { useTz: true });
    t.index(['user_id', 'created_at', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('weights');
}
