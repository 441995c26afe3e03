// Review moderation at scale: the queue's pages from an index (keyset, no OFFSET), bulk approval
// of 10,000 reviews against a bare SQL UPDATE of the same rows, and classifier throughput.
import { performance } from "node:perf_hooks";
import { systemActor } from "@steward/core/actor";
import type { EventBus } from "@steward/core/events";
import { classifyReview } from "@steward/core/moderation/classifier";
import { bulkApproveReviews } from "@steward/core/reviews";
import type { Db } from "@steward/db/client";
import type { BenchRow } from "./table.ts";

const silentBus = { publish: () => undefined } as unknown as EventBus;

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

export async function benchReviews(db: Db, scale: { reviews: number; bulk: number }): Promise<BenchRow[]> {
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

  // Queue pages: first page, then a page deep into the queue via its cursor (keyset).
  const firstPage = await time(() =>
    db.review.findMany({ where: { status: "PENDING" }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: 50 }),
  );
  const deepCursor = await db.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id FROM "Review" WHERE status = 'PENDING' ORDER BY "createdAt", id OFFSET ${Math.floor(scale.reviews / 2)} LIMIT 1`,
  );
  const laterPage = await time(() =>
    db.review.findMany({
      where: { status: "PENDING" },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      cursor: { id: deepCursor[0]!.id },
      skip: 1,
      take: 50,
    }),
  );
  const plan = await db.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(
    `EXPLAIN SELECT * FROM "Review" WHERE status = 'PENDING' AND ("createdAt", id) > (now() - interval '1 day', '${deepCursor[0]!.id}') ORDER BY "createdAt", id LIMIT 50`,
  );
  const usesIndex =
    plan.some((line) => /Index/.test(line["QUERY PLAN"])) && !plan.some((line) => /Seq Scan/.test(line["QUERY PLAN"]));
  rows.push({ name: `reviews queue first page (of ${scale.reviews})`, value: firstPage.ms, unit: "ms" });
  rows.push({
    name: "reviews queue later page (keyset cursor)",
    value: laterPage.ms,
    unit: "ms",
    note: usesIndex ? "keyset SQL plan: index scan" : "keyset SQL plan: NOT from an index",
  });

  const bulk = await time(() => bulkApproveReviews(db, silentBus, systemActor("bench"), 0.9));
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
