import { randomUUID } from 'node:crypto';
import { ConflictError } from '@vtp/service-kit';
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
      await trx('api_keys').where({ user_id: admin.id, name: 'ADMIN_API_KEY' }).delete();
      await trx('api_keys').insert({
        id: randomUUID(),
        user_id: admin.id,
        name: 'ADMIN_API_KEY',
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
