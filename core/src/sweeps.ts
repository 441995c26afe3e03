// Sweeps turn rows PostgreSQL holds as pending back into queued work. PostgreSQL is the truth and
// Redis only carries the jobs: a flush, a crash between the insert and the enqueue, or a Redis that
// came back empty loses a job while its row still says "pending". A sweep hands the ids of such rows
// to `enqueue`, which must use the same deterministic job id as the original enqueue, so a job
// still queued (waiting, delayed, active or failed) is left as it is and nothing runs twice at once.

/** Hands one page of pending ids to the queue. */
export type EnqueuePending = (ids: string[]) => Promise<void>;

export interface PendingSweepOptions {
  /** Rows younger than this are left to the enqueue that follows their insert. */
  olderThanMs: number;
  now?: Date;
  pageSize?: number;
}

/** A pending row's id and the time it became pending (the keyset the sweep walks). */
export interface PendingRow {
  id: string;
  at: Date;
}

export const DEFAULT_SWEEP_PAGE_SIZE = 500;

/**
 * Walks the pending rows in (at, id) order one page at a time, enqueueing each page, so any number
 * of rows is swept in bounded memory and a row that stays pending (its job still queued) never
 * hides the ones after it. Returns how many ids were handed to the queue.
 */
export async function sweepPendingPages(
  page: (after: PendingRow | null, take: number) => Promise<PendingRow[]>,
  enqueue: EnqueuePending,
  pageSize = DEFAULT_SWEEP_PAGE_SIZE,
): Promise<number> {
  let after: PendingRow | null = null;
  let total = 0;
  for (;;) {
    const rows = await page(after, pageSize);
    if (rows.length === 0) return total;
    await enqueue(rows.map((row) => row.id));
    total += rows.length;
    if (rows.length < pageSize) return total;
    after = rows[rows.length - 1] ?? null;
  }
}
