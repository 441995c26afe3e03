// Review moderation at scale: the queue's pages over GraphQL under load (reviewQueue.ts), bulk approval
// of 10,000 reviews against a bare SQL UPDATE of the same rows, and classifier throughput.
import { performance } from "node:perf_hooks";
import { systemActor } from "@steward/core/actor";
import { classifyReview } from "@steward/core/moderation/classifier";
import { bulkApproveReviews } from "@steward/core/reviews";
import type { Db } from "@steward/db/client";
import { benchReviewQueue, type QueueLoadOptions } from "./reviewQueue.ts";
import { benchCoreDeps } from "./coreDeps.ts";
import type { BenchRow } from "./table.ts";

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

export async function benchReviews(
  db: Db,
  databaseUrl: string,
  scale: { reviews: number; bulk: number; queue: QueueLoadOptions },
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const region = await db.region.create({ data: { slug: `bench-${Date.now()}`, name: "Bench" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: "Bench Dog School", email: "b@example.com" },
  });
  await db.$executeRawUnsafe(
    `INSERT INTO "Review" (id, "businessId", rating, body, source, status, "aiConfidence", "createdAt")
     SELECT gen_random_uuid(), '${business.id}', 1 + (g % 5), 'Great dog training session number ' || g, 'bench', 'PENDING', 0.5,
            now() - (g || ' seconds')::interval
       FROM generate_series(1, ${scale.reviews}) g`,
  );
  await resetEligible(db, scale.bulk);

  // The queue's pages over the real API at a fixed rate, beside bare SQL keyset pages.
  rows.push(...(await benchReviewQueue(db, databaseUrl, scale.reviews, scale.queue)));

  const bulk = await time(() => bulkApproveReviews(benchCoreDeps(db), systemActor("bench"), { threshold: 0.9 }));
  await resetEligible(db, scale.bulk);
  const bare = await time(() =>
    db.$executeRawUnsafe(
      `UPDATE "Review" SET status = 'APPROVED', "decidedAt" = now() WHERE status = 'PENDING' AND "aiConfidence" >= 0.9`,
    ),
  );
  rows.push({
    name: `bulkApproveReviews over ${bulk.result} reviews (+ decisions + audit)`,
    value: bulk.ms,
    unit: "ms",
    floor: bare.ms,
    floorName: `bare SQL UPDATE of ${bare.result} rows`,
  });

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
