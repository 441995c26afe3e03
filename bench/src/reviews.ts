// Review moderation at scale: the queue's pages over GraphQL under load (reviewQueue.ts), bulk approval
// of 10,000 reviews (five rounds) beside a bare SQL UPDATE of the same rows and beside the same
// three writes as one bare statement, and classifier throughput.
import { performance } from "node:perf_hooks";
import { systemActor } from "@steward/core/actor";
import { classifyReview } from "@steward/core/moderation/classifier";
import { bulkApproveReviews } from "@steward/core/reviews";
import type { Db } from "@steward/db/client";
import { benchReviewQueue, type QueueLoadOptions } from "./reviewQueue.ts";
import { benchCoreDeps } from "./coreDeps.ts";
import { type BenchRow, medianIndex, spread } from "./table.ts";

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

async function resetEligible(db: Db, eligible: number): Promise<void> {
  // The newest `eligible` reviews are the confident ones; everything else is pending but unsure.
  await db.$executeRawUnsafe(`DELETE FROM "ReviewDecision"`);
  await db.$executeRawUnsafe(`UPDATE "Review" SET status = 'PENDING', "aiConfidence" = 0.5, version = 0`);
  await db.$executeRawUnsafe(
    `UPDATE "Review" SET "aiConfidence" = 0.95 WHERE id IN (SELECT id FROM "Review" ORDER BY "createdAt" DESC LIMIT ${eligible})`,
  );
  await db.$executeRawUnsafe(`VACUUM ANALYZE "Review"`);
}

/** Puts the approved rows back in the queue: only those (the full reset rewrites every review). */
async function undoApprovals(db: Db): Promise<void> {
  await db.$executeRawUnsafe(`DELETE FROM "ReviewDecision"`);
  await db.$executeRawUnsafe(
    `UPDATE "Review" SET status = 'PENDING', "moderatorId" = NULL, "decidedAt" = NULL, version = 0 WHERE status <> 'PENDING'`,
  );
  await db.$executeRawUnsafe(`VACUUM ANALYZE "Review"`);
}

// The same three writes bulkApproveReviews makes (the update, a decision and an audit event per
// review), as one bare statement: the like-for-like floor beside the bare UPDATE alone.
const BARE_APPROVE_WITH_RECORDS = `
  WITH approved AS (
    UPDATE "Review" SET status = 'APPROVED', "decidedAt" = now(), version = version + 1
     WHERE status = 'PENDING' AND "aiConfidence" >= 0.9
 RETURNING id, "aiConfidence"
  ), decisions AS (
    INSERT INTO "ReviewDecision" (id, "reviewId", action, confidence, bulk, "createdAt")
    SELECT uuid_generate_v7(), id, 'APPROVE', "aiConfidence", true, now() FROM approved
  )
  INSERT INTO "AuditEvent" (id, "actorKind", "actorLabel", action, "targetType", "targetId", before, after, "createdAt")
  SELECT uuid_generate_v7(), 'SYSTEM', 'bench', 'review.approve', 'Review', id::text, '{}'::jsonb, '{}'::jsonb, now()
    FROM approved`;

const BULK_ROUNDS = 5;

/**
 * Bulk approval of `eligible` confident reviews, five rounds (issue 17 point 5: median and spread),
 * each beside a bare UPDATE of the same rows and the same three writes as one bare statement.
 */
async function benchBulkApprove(db: Db, eligible: number): Promise<BenchRow[]> {
  const rounds: { steward: number; update: number; records: number; approved: number }[] = [];
  for (let round = 0; round < BULK_ROUNDS; round++) {
    const steward = await time(() => bulkApproveReviews(benchCoreDeps(db), systemActor("bench"), { threshold: 0.9 }));
    await undoApprovals(db);
    const update = await time(() =>
      db.$executeRawUnsafe(
        `UPDATE "Review" SET status = 'APPROVED', "decidedAt" = now() WHERE status = 'PENDING' AND "aiConfidence" >= 0.9`,
      ),
    );
    await undoApprovals(db);
    const records = await time(() => db.$executeRawUnsafe(BARE_APPROVE_WITH_RECORDS));
    await undoApprovals(db);
    if (steward.result !== eligible || update.result !== eligible || records.result !== eligible)
      throw new Error(`bulk bench: approved ${steward.result}, ${update.result}, ${records.result} of ${eligible}`);
    rounds.push({ steward: steward.ms, update: update.ms, records: records.ms, approved: steward.result });
  }
  const byUpdate = rounds.map((round) => round.steward / round.update);
  const byRecords = rounds.map((round) => round.steward / round.records);
  const middle = rounds[medianIndex(byUpdate)]!;
  const middleRecords = rounds[medianIndex(byRecords)]!;
  return [
    {
      name: `bulkApproveReviews over ${eligible} reviews (+ decisions + audit), the round with the median ratio of ${BULK_ROUNDS}`,
      value: middle.steward,
      unit: "ms",
      floor: middle.update,
      floorName: `bare SQL UPDATE of the same rows`,
      note: `ratio spread ${spread(byUpdate, 2, "×")} over ${BULK_ROUNDS} rounds`,
    },
    {
      name: `bulkApproveReviews beside the same three writes as one bare statement (median of ${BULK_ROUNDS})`,
      value: middleRecords.steward,
      unit: "ms",
      floor: middleRecords.records,
      floorName: "bare UPDATE + decisions + audit events, one statement",
      note: `ratio spread ${spread(byRecords, 2, "×")}`,
    },
  ];
}

/** Bulk approval alone (`--only bulk`): the queue of `reviews` with `bulk` confident ones. */
export async function benchBulk(db: Db, scale: { reviews: number; bulk: number }): Promise<BenchRow[]> {
  await seedQueue(db, scale.reviews);
  await resetEligible(db, scale.bulk);
  return benchBulkApprove(db, scale.bulk);
}

async function seedQueue(db: Db, reviews: number): Promise<void> {
  const region = await db.region.create({ data: { slug: `bench-${Date.now()}`, name: "Bench" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: "Bench Dog School", email: "b@example.com" },
  });
  await db.$executeRawUnsafe(
    `INSERT INTO "Review" (id, "businessId", rating, body, source, status, "aiConfidence", "createdAt")
     SELECT gen_random_uuid(), '${business.id}', 1 + (g % 5), 'Great dog training session number ' || g, 'bench', 'PENDING', 0.5,
            now() - (g || ' seconds')::interval
       FROM generate_series(1, ${reviews}) g`,
  );
}

export async function benchReviews(
  db: Db,
  databaseUrl: string,
  scale: { reviews: number; bulk: number; queue: QueueLoadOptions },
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  await seedQueue(db, scale.reviews);
  await resetEligible(db, scale.bulk);

  // The queue's pages over the real API at a fixed rate, beside bare SQL keyset pages.
  rows.push(...(await benchReviewQueue(db, databaseUrl, scale.reviews, scale.queue)));

  rows.push(...(await benchBulkApprove(db, scale.bulk)));

  const samples = Array.from({ length: 20_000 }, (_, index) => ({
    body: `Our puppy class number ${index} was great, click here www.x.example`,
    rating: 1 + (index % 5),
  }));
  const classify = await time(() => Promise.resolve(samples.map((review) => classifyReview(review))));
  rows.push({
    name: "deterministic classifier throughput",
    value: samples.length / (classify.ms / 1000),
    unit: "reviews/s",
  });
  return rows;
}
