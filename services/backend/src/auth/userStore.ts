import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '@vtp/service-kit';
import type { Db } from '../db/database.ts';
import type { Principal } from './principal.ts';
import { hashSecret } from './secrets.ts';

export interface CreatedKey {
  id: string;
  userId: string;
  user: string;
  name: string;
  createdAt: Date;
}

const ADMIN_KEY_NAME = 'ADMIN_API_KEY';

export class UserStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** Makes `key` the admin key: the admin user is created once, its key replaced when the setting changes. */
  async ensureAdminKey(key: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      const [admin] = await trx('users')
        .insert({ id: randomUUID(), name: 'admin', is_admin: true })
        .onConflict('name')
        .merge({ is_admin: true })
        .returning<{ id: string }[]>('id');
      if (!admin) throw new Error('admin user upsert returned nothing');
      await trx('api_keys').where({ user_id: admin.id, name: ADMIN_KEY_NAME }).delete();
      await trx('api_keys').insert({
        id: randomUUID(),
        user_id: admin.id,
        name: ADMIN_KEY_NAME,
        key_hash: hashSecret(key),
      });
    });
  }

  async createKey(userName: string, keyName: string, key: string): Promise<CreatedKey> {
    return this.db.transaction(async (trx) => {
      await trx('users').insert({ id: randomUUID(), name: userName }).onConflict('name').ignore();
      const user = await trx('users')
        .where({ name: userName })
        .first<{ id: string; name: string; is_admin: boolean }>();
      if (!user) throw new Error(`user ${userName} vanished during key creation`);
      if (user.is_admin)
        throw new ConflictError(`"${userName}" is reserved for the admin key`, 'reserved_user');
      const [row] = await trx('api_keys')
        .insert({ id: randomUUID(), user_id: user.id, name: keyName, key_hash: hashSecret(key) })
        .returning<{ id: string; created_at: Date }[]>(['id', 'created_at']);
      if (!row) throw new Error('api key insert returned nothing');
      return { id: row.id, userId: user.id, user: user.name, name: keyName, createdAt: row.created_at };
    });
  }

  /** The principal's own keys; the admin's view holds every user's. */
  async listKeys(principal: Principal): Promise<CreatedKey[]> {
    const query = this.db('api_keys').join('users', 'users.id', 'api_keys.user_id');
    if (!principal.isAdmin) query.where('api_keys.user_id', principal.userId);
    const rows = await query
      .orderBy([{ column: 'api_keys.created_at' }, { column: 'api_keys.id' }])
      .select<{ id: string; user_id: string; user: string; name: string; created_at: Date }[]>(
        'api_keys.id',
        'api_keys.user_id',
        'users.name as user',
        'api_keys.name',
        'api_keys.created_at',
      );
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      user: r.user,
      name: r.name,
      createdAt: r.created_at,
    }));
  }

  /**
   * Revokes a key: the principal's own, or any for the admin, except the configured admin key (it is managed by
   * ADMIN_API_KEY). A key that is not the principal's is "not found", as for datasets and jobs.
   */
  async revokeKey(principal: Principal, id: string): Promise<void> {
    const row = await this.db('api_keys')
      .where({ id })
      .first<{ user_id: string; name: string } | undefined>();
    if (!row || (!principal.isAdmin && row.user_id !== principal.userId))
      throw new NotFoundError(`No API key ${id}`, 'api_key_not_found');
    if (row.name === ADMIN_KEY_NAME)
      throw new ConflictError(
        'The admin key is set by ADMIN_API_KEY (or kept under DATA_DIR), not revoked here',
        'admin_key',
      );
    await this.db('api_keys').where({ id }).delete();
  }

  async findByKey(key: string): Promise<Principal | undefined> {
    const row = await this.db('api_keys')
      .join('users', 'users.id', 'api_keys.user_id')
      .where('api_keys.key_hash', hashSecret(key))
      .first<{ user_id: string; name: string; is_admin: boolean } | undefined>(
        'api_keys.user_id',
        'users.name',
        'users.is_admin',
      );
    return row ? { userId: row.user_id, userName: row.name, isAdmin: row.is_admin } : undefined;
  }
}
