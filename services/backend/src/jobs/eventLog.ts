import type { JobEvent } from '@vtp/shared-schemas';
import type { Db } from '../db/database.ts';

interface EventRow {
  job_id: string;
  seq: number;
  attempt: number;
  superseded: boolean;
  type: string;
  timestamp: Date;
  received_at: Date;
  payload: Record<string, unknown>;
}

export async function listJobEvents(
  db: Db,
  jobId: string,
  afterSeq: number,
  limit: number,
): Promise<JobEvent[]> {
  const rows = await db('job_events')
    .where({ job_id: jobId })
    .andWhere('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .select<EventRow[]>('*');
  return rows.map((r) => ({
    jobId: r.job_id,
    seq: r.seq,
    attempt: r.attempt,
    superseded: r.superseded,
    type: r.type,
    timestamp: r.timestamp.toISOString(),
    receivedAt: r.received_at.toISOString(),
    payload: r.payload,
  }));
}
