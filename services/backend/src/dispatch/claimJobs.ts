import type { Framework } from '@vtp/shared-schemas';
import { generateSecret, hashSecret } from '../auth/secrets.ts';
import type { Db } from '../db/database.ts';
import { PLACED } from '../jobs/jobLifecycle.ts';
import type { JobRow } from '../jobs/jobStore.ts';

export interface ConcurrencyLimits {
  perFramework: number;
  perUser: number;
}

export interface ClaimedJob {
  row: JobRow;
  /** Issued fresh at every hand-over; only its hash is stored. A trainer still holding an earlier one of the
   * job's tokens keeps reporting with it until the job ends. */
  callbackToken: string;
}

/**
 * Claims queued jobs for hand-over within the concurrency limits. The advisory lock serialises claimers across
 * backend replicas, so two of them can never both see room for the same slot; SKIP LOCKED leaves rows that
 * another transaction holds. Users with fewer active jobs go first, so one user's burst cannot starve others.
 */
export async function claimQueuedJobs(db: Db, limits: ConcurrencyLimits, max = 20): Promise<ClaimedJob[]> {
  return db.transaction(async (trx) => {
    await trx.raw("select pg_advisory_xact_lock(hashtext('vtp_dispatch'))");
    const active = await trx('jobs')
      .whereIn('status', PLACED)
      .select<{ framework: Framework; user_id: string; n: string }[]>(
        'framework',
        'user_id',
        trx.raw('count(*) as n'),
      )
      .groupBy('framework', 'user_id');
    const perFramework = new Map<string, number>();
    const perUser = new Map<string, number>();
    for (const a of active) {
      perFramework.set(a.framework, (perFramework.get(a.framework) ?? 0) + Number(a.n));
      perUser.set(a.user_id, (perUser.get(a.user_id) ?? 0) + Number(a.n));
    }
    const { rows: candidates } = await trx.raw<{ rows: JobRow[] }>(
      `select j.* from jobs j
        where j.status = 'queued'
          -- a job sent back after a failed hand-over waits 2^handovers seconds (at most a minute)
          and (j.dispatched_at is null or j.dispatched_at < now() - interval '1 second' * least(60, power(2, j.handovers)))
        order by (select count(*) from jobs a where a.user_id = j.user_id and a.status in (?)),
                 j.created_at, j.id
        limit ?
        for update of j skip locked`,
      [[...PLACED], max * 5],
    );
    const claimed: ClaimedJob[] = [];
    for (const job of candidates) {
      if (claimed.length >= max) break;
      const fw = perFramework.get(job.framework) ?? 0;
      const user = perUser.get(job.user_id) ?? 0;
      if (fw >= limits.perFramework || user >= limits.perUser) continue;
      const callbackToken = generateSecret('vtpcb');
      const [row] = await trx('jobs')
        .where({ id: job.id, status: 'queued' })
        .update({
          status: 'dispatching',
          callback_token_hashes: trx.raw('array_append(callback_token_hashes, ?)', [
            hashSecret(callbackToken),
          ]),
          handovers: job.handovers + 1,
          dispatched_at: trx.fn.now(),
          updated_at: trx.fn.now(),
        })
        .returning<JobRow[]>('*');
      if (!row) continue;
      perFramework.set(job.framework, fw + 1);
      perUser.set(job.user_id, user + 1);
      claimed.push({ row, callbackToken });
    }
    return claimed;
  });
}
