import type { Framework, Weights, WeightsFormat } from '@vtp/shared-schemas';
import type { Db } from '../db/database.ts';
import { keysetPage } from '../db/pageCursor.ts';

interface WeightsRow {
  id: string;
  user_id: string;
  name: string;
  framework: Framework;
  model: string;
  file_name: string;
  format: WeightsFormat;
  num_classes: number | null;
  class_names: string[] | null;
  tensors: number;
  bytes: string | number;
  sha256: string;
  object_key: string;
  created_at: Date;
}

export interface StoredWeights extends Weights {
  userId: string;
  objectKey: string;
}

function toWeights(row: WeightsRow): StoredWeights {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    framework: row.framework,
    model: row.model,
    fileName: row.file_name,
    format: row.format,
    numClasses: row.num_classes,
    classNames: row.class_names,
    tensors: row.tensors,
    bytes: Number(row.bytes),
    sha256: row.sha256,
    objectKey: row.object_key,
    createdAt: row.created_at.toISOString(),
  };
}

export function publicWeights({ userId: _u, objectKey: _k, ...weights }: StoredWeights): Weights {
  return weights;
}

/** The `weights` table's one owner. */
export class WeightsStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insert(w: Omit<StoredWeights, 'createdAt'>): Promise<StoredWeights> {
    const [row] = await this.db('weights')
      .insert({
        id: w.id,
        user_id: w.userId,
        name: w.name,
        framework: w.framework,
        model: w.model,
        file_name: w.fileName,
        format: w.format,
        num_classes: w.numClasses,
        class_names: w.classNames ? JSON.stringify(w.classNames) : null,
        tensors: w.tensors,
        bytes: w.bytes,
        sha256: w.sha256,
        object_key: w.objectKey,
      })
      .returning<WeightsRow[]>('*');
    if (!row) throw new Error('weights insert returned nothing');
    return toWeights(row);
  }

  /** Another user's weights read as missing: ownership is part of the lookup. */
  async findForUser(userId: string, id: string): Promise<StoredWeights | undefined> {
    const row = await this.db('weights')
      .where({ id, user_id: userId, deleted_at: null })
      .first<WeightsRow | undefined>();
    return row && toWeights(row);
  }

  /** For a job's trainer: the weights it starts from, unless they were deleted since. */
  async findById(id: string): Promise<StoredWeights | undefined> {
    const row = await this.db('weights').where({ id, deleted_at: null }).first<WeightsRow | undefined>();
    return row && toWeights(row);
  }

  async list(
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: StoredWeights[]; nextCursor: string | null }> {
    const query = this.db('weights').where({ user_id: userId, deleted_at: null });
    const { rows, nextCursor } = await keysetPage<WeightsRow>(query, limit, cursor);
    return { items: rows.map(toWeights), nextCursor };
  }

  async countForUser(userId: string): Promise<number> {
    const [row] = await this.db('weights')
      .where({ user_id: userId, deleted_at: null })
      .count<{ count: string }[]>('* as count');
    return Number(row?.count ?? 0);
  }

  async delete(id: string): Promise<void> {
    await this.db('weights').where({ id }).update({ deleted_at: this.db.fn.now() });
  }

  async knownObjectKeys(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db('weights')
      .whereIn('object_key', keys)
      .whereNull('deleted_at')
      .select<{ object_key: string }[]>('object_key');
    return new Set(rows.map((r) => r.object_key));
  }
}
