import type { Dataset, DatasetFormat, ImageCounts } from '@vtp/shared-schemas';
import type { Db } from '../db/database.ts';
import { keysetPage } from '../db/pageCursor.ts';

interface DatasetRow {
  id: string;
  user_id: string;
  name: string;
  format: DatasetFormat;
  class_names: string[];
  image_counts: ImageCounts;
  bytes: string | number;
  sha256: string;
  object_key: string;
  root: string;
  created_at: Date;
}

export interface StoredDataset extends Dataset {
  userId: string;
  objectKey: string;
  root: string;
}

function toDataset(row: DatasetRow): StoredDataset {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    format: row.format,
    classNames: row.class_names,
    imageCounts: row.image_counts,
    bytes: Number(row.bytes),
    sha256: row.sha256,
    objectKey: row.object_key,
    root: row.root,
    createdAt: row.created_at.toISOString(),
  };
}

export function publicDataset({ userId: _u, objectKey: _k, root: _r, ...dataset }: StoredDataset): Dataset {
  return dataset;
}

export class DatasetStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async insert(d: Omit<StoredDataset, 'createdAt'>): Promise<StoredDataset> {
    const [row] = await this.db('datasets')
      .insert({
        id: d.id,
        user_id: d.userId,
        name: d.name,
        format: d.format,
        class_names: JSON.stringify(d.classNames),
        image_counts: JSON.stringify(d.imageCounts),
        bytes: d.bytes,
        sha256: d.sha256,
        object_key: d.objectKey,
        root: d.root,
      })
      .returning<DatasetRow[]>('*');
    if (!row) throw new Error('dataset insert returned nothing');
    return toDataset(row);
  }

  /** Another user's dataset reads as missing: ownership is part of the lookup. */
  async findForUser(userId: string, id: string): Promise<StoredDataset | undefined> {
    const row = await this.db('datasets')
      .where({ id, user_id: userId, deleted_at: null })
      .first<DatasetRow | undefined>();
    return row && toDataset(row);
  }

  /** For the dispatcher: a job's dataset, whoever asks (the job's owner was checked when it was created). */
  async findById(id: string): Promise<StoredDataset | undefined> {
    const row = await this.db('datasets').where({ id }).first<DatasetRow | undefined>();
    return row && toDataset(row);
  }

  async list(
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: StoredDataset[]; nextCursor: string | null }> {
    const query = this.db('datasets').where({ user_id: userId, deleted_at: null });
    const { rows, nextCursor } = await keysetPage<DatasetRow>(query, limit, cursor);
    return { items: rows.map(toDataset), nextCursor };
  }

  async countForUser(userId: string): Promise<number> {
    const [row] = await this.db('datasets')
      .where({ user_id: userId })
      .whereNull('deleted_at')
      .count<{ count: string }[]>('* as count');
    return Number(row?.count ?? 0);
  }

  async delete(id: string): Promise<void> {
    await this.db('datasets').where({ id }).update({ deleted_at: this.db.fn.now() });
  }

  async knownObjectKeys(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db('datasets')
      .whereIn('object_key', keys)
      .whereNull('deleted_at')
      .select<{ object_key: string }[]>('object_key');
    return new Set(rows.map((r) => r.object_key));
  }
}
