// Data retention: deleting old job runs the way the `data-retention` job does (batches of
// RETENTION_BATCH_SIZE, each its own short statement) beside a bare `DELETE` of the same rows, in
// the same run and database. The batched way takes longer in total; what it buys is that no row
// lock (and no transaction holding back vacuum) lasts longer than one batch.
import { purgeTarget } from "@steward/core/retention";
import type { Db } from "@steward/db/client";
import type { BenchRow } from "./table.ts";

const DAY = 86_400_000;
const KEPT_DAYS = 90;
const BATCH_SIZE = 5000;

/** A uuid v7 (what Prisma's `uuid(7)` gives: time-ordered) for a row started at `at`, unique by `n`. */
const uuid7 = (at: string, n: string) =>
  `(lpad(to_hex(floor(extract(epoch from ${at}) * 1000)::bigint), 12, '0') || '7' || substr(md5(${n}::text), 1, 3) || '8' || substr(md5(${n}::text), 4, 15))::uuid`;

/** `old` job runs past the retention and a tenth as many recent ones (which must stay). */
async function seedJobRuns(db: Db, old: number, now: Date): Promise<void> {
  await db.$executeRaw`TRUNCATE "JobRun"`;
  const recent = Math.max(1, Math.floor(old / 10));
  // Minute by minute going back from `from`, as a heartbeat would have left them.
  const insert = (prefix: string, from: Date, count: number) =>
    db.$executeRawUnsafe(`
      INSERT INTO "JobRun" (id, "jobName", "queueJobId", trigger, attempt, status, "startedAt", "finishedAt", "durationMs", summary)
      SELECT ${uuid7("at", `'${prefix}' || n`)}, 'heartbeat', '${prefix}-' || n, 'SCHEDULE', 1, 'SUCCEEDED', at, at, 12,
             'worker alive; PostgreSQL answered in 0.4 ms'
        FROM generate_series(1, ${count}) AS n,
             LATERAL (SELECT '${from.toISOString()}'::timestamp - n * interval '1 minute' AS at) AS started`);
  await insert("bench-old", new Date(now.getTime() - 100 * DAY), old);
  await insert("bench-new", now, recent);
  await db.$executeRaw`ANALYZE "JobRun"`;
}

export async function benchRetention(db: Db, jobRuns: number): Promise<BenchRow[]> {
  const now = new Date();
  const cutoff = new Date(now.getTime() - KEPT_DAYS * DAY);

  await seedJobRuns(db, jobRuns, now);
  const batchedStarted = performance.now();
  const batched = await purgeTarget(db, "jobRuns", KEPT_DAYS, { batchSize: BATCH_SIZE, maxBatches: 1_000_000 }, now);
  const batchedMs = performance.now() - batchedStarted;
  const keptAfterBatched = await db.jobRun.count();

  await seedJobRuns(db, jobRuns, now);
  const bareStarted = performance.now();
  const bareRemoved = await db.$executeRaw`DELETE FROM "JobRun" WHERE "startedAt" < ${cutoff} AND status <> 'RUNNING'`;
  const bareMs = performance.now() - bareStarted;
  const keptAfterBare = await db.jobRun.count();

  if (batched.removed !== jobRuns || bareRemoved !== jobRuns || keptAfterBatched !== keptAfterBare)
    throw new Error(
      `retention bench: batched removed ${batched.removed}, bare ${bareRemoved}, of ${jobRuns}; kept ${keptAfterBatched} vs ${keptAfterBare}`,
    );
  const rows = jobRuns.toLocaleString("en");
  console.log(
    `retention: ${rows} job runs — batched ${(batchedMs / 1000).toFixed(2)} s in ${batched.batches} batches of ${BATCH_SIZE} (longest ${batched.longestBatchMs} ms); bare DELETE ${(bareMs / 1000).toFixed(2)} s in one statement`,
  );
  return [
    {
      name: `data retention: delete ${rows} job runs past 90 days (batches of ${BATCH_SIZE}), total`,
      value: batchedMs / 1000,
      unit: "s",
      floor: bareMs / 1000,
      floorName: "bare DELETE, same rows",
      note: `${batched.batches} batches; ${keptAfterBatched.toLocaleString("en")} recent runs kept`,
    },
    {
      name: `data retention: longest single lock-holding statement, ${rows} job runs`,
      value: batched.longestBatchMs,
      unit: "ms",
      floor: bareMs,
      floorName: "bare DELETE holds its locks for all of it",
      note: "lower is better: the batched job never holds row locks longer than one batch",
    },
  ];
}
