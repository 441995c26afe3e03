// The hot reads written by hand (core/src/reads/) answer exactly what Prisma answers: the same rows,
// in the same order, with every column of every related row (a column added to a table and not to
// the statement fails here), for random queue filters, every sort, and pages after a cursor.
import { createDatabase, type Db, type Prisma, type SqlReader } from "@steward/db/client";
import { prismaSqlReader } from "@steward/core/deps";
import { healthStatesOf, latestHealth } from "@steward/core/health";
import { rollupMetrics } from "@steward/core/metrics";
import { loadOverview } from "@steward/core/overview";
import { refundRequestPage } from "@steward/core/reads/refundPages";
import { countReviews, publishedReviews, reviewQueuePage } from "@steward/core/reads/reviewPages";
import { REVIEW_SORTS, type ReviewQuery, type ReviewSort, reviewWhere } from "@steward/core/reviews";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seed } from "../../scripts/seed/demo.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createOperator } from "../support/fixtures.ts";

let database: TestDatabase;
let deps: { db: Db; sql: SqlReader };
let businessIds: string[];
let regionIds: string[];
/** Words of business names, which no review body need contain: the search's other half. */
let nameWords: string[];

const FULL_REVIEW = {
  business: { include: { region: true } },
  moderator: true,
  scores: { orderBy: { createdAt: "asc" } },
  decisions: { orderBy: { createdAt: "asc" }, include: { actor: true } },
} satisfies Prisma.ReviewInclude;

/** Prisma's rows as the GraphQL layer may see them: an operator's password hash is never read by hand. */
function withoutPasswordHashes<T>(rows: T[]): T[] {
  return JSON.parse(JSON.stringify(rows, (key, value: unknown) => (key === "passwordHash" ? undefined : value))) as T[];
}
const comparable = <T>(rows: T[]) => JSON.parse(JSON.stringify(rows)) as T[];

beforeAll(async () => {
  database = await createTestDatabase();
  deps = { db: database.db, sql: createDatabase(database.url, 2).sql };
  await seed(database.db);
  // Decided reviews, with a moderator and a decision each, so those relations have rows.
  const operator = await createOperator(database.db, "OPERATOR");
  const decided = await database.db.review.findMany({ take: 12, orderBy: { id: "asc" } });
  for (const [index, review] of decided.entries()) {
    const status = index % 2 ? "APPROVED" : "REJECTED";
    await database.db.review.update({
      where: { id: review.id },
      data: {
        status,
        moderatorId: operator.id,
        decidedAt: new Date(),
        ...(status === "REJECTED" ? { rejectionReason: "SPAM" } : {}),
      },
    });
    await database.db.reviewDecision.create({
      data: {
        reviewId: review.id,
        action: status === "APPROVED" ? "APPROVE" : "REJECT",
        actorId: operator.id,
        bulk: false,
      },
    });
  }
  // A search must find wildcards literally.
  const business = await database.db.business.findFirstOrThrow();
  await database.db.review.create({
    data: { businessId: business.id, rating: 2, body: "50% off_today \\o/", source: "test" },
  });
  businessIds = (await database.db.business.findMany({ select: { id: true } })).map((row) => row.id);
  regionIds = (await database.db.region.findMany({ select: { id: true } })).map((row) => row.id);
  const names = await database.db.business.findMany({ select: { name: true }, take: 5, orderBy: { name: "asc" } });
  nameWords = names.map((row) => row.name.slice(0, 6).toUpperCase());
}, 60_000);

afterAll(async () => {
  await database?.drop();
});

const filters = (): fc.Arbitrary<ReviewQuery> =>
  fc.record(
    {
      status: fc.constantFrom("PENDING", "APPROVED", "REJECTED", null),
      minConfidence: fc.option(fc.double({ min: 0, max: 0.6, noNaN: true })),
      maxConfidence: fc.option(fc.double({ min: 0.6, max: 1, noNaN: true })),
      businessId: fc.option(fc.constantFrom(...businessIds)),
      regionId: fc.option(fc.constantFrom(...regionIds)),
      search: fc.option(
        fc.constantFrom("the", "GREAT", "%", "_", "50% off", "\\", "é", "zzz-nothing", " ", ...nameWords),
      ),
      suggestedOnly: fc.option(fc.boolean()),
    },
    { requiredKeys: [] },
  );
const sorts = fc.constantFrom<ReviewSort>(...(Object.keys(REVIEW_SORTS) as ReviewSort[]));

describe("the review queue page by hand", () => {
  it("answers every filter and sort as Prisma does, first pages and pages after a cursor", async () => {
    await fc.assert(
      fc.asyncProperty(filters(), sorts, fc.integer({ min: 1, max: 30 }), async (filter, sort, take) => {
        const expected = await deps.db.review.findMany({
          where: reviewWhere(filter),
          orderBy: REVIEW_SORTS[sort],
          include: FULL_REVIEW,
          take,
        });
        const page = await reviewQueuePage(deps, { include: FULL_REVIEW, take }, filter, sort);
        expect(comparable(page)).toEqual(withoutPasswordHashes(expected));
        expect(await countReviews(deps, filter)).toBe(await deps.db.review.count({ where: reviewWhere(filter) }));
        const cursor = expected.at(-1);
        if (!cursor) return;
        const next = { include: FULL_REVIEW, take, skip: 1, cursor: { id: cursor.id } };
        const expectedNext = await deps.db.review.findMany({
          ...next,
          where: reviewWhere(filter),
          orderBy: REVIEW_SORTS[sort],
        });
        expect(comparable(await reviewQueuePage(deps, next, filter, sort))).toEqual(
          withoutPasswordHashes(expectedNext),
        );
      }),
      { numRuns: 60, seed: 17 },
    );
  });

  it("sends one statement for a page after a cursor, and finds wildcards literally", async () => {
    const literal = await reviewQueuePage(deps, { take: 10 }, { search: "50% off_" }, "OLDEST");
    expect(literal.map((review) => review.body)).toEqual(["50% off_today \\o/"]);
    expect(await countReviews(deps, { search: "%" })).toBe(1);
  });

  it("reads an unknown cursor or a malformed id as no rows, not an error", async () => {
    const unknown = "00000000-0000-7000-8000-000000000000";
    expect(await reviewQueuePage(deps, { take: 5, skip: 1, cursor: { id: unknown } }, null, "OLDEST")).toEqual([]);
    expect(await reviewQueuePage(deps, { take: 5 }, { businessId: "not-a-uuid" }, "OLDEST")).toEqual([]);
    expect(await countReviews(deps, { regionId: "x'; DROP TABLE" })).toBe(0);
  });
});

describe("published reviews and the refund list by hand", () => {
  it.each([
    ["every relation", FULL_REVIEW],
    // What an integration's PublishedReviews document makes Pothos ask for.
    ["the business alone", { business: true }],
    ["the moderator alone", { moderator: true }],
    ["no relation", {}],
  ] satisfies [string, Prisma.ReviewInclude][])(
    "answers a business's published reviews as Prisma does (%s), after a cursor too",
    async (_shape, include) => {
      for (const businessId of businessIds.slice(0, 10)) {
        const where = { businessId, status: "APPROVED" as const };
        const expected = await deps.db.review.findMany({ where, orderBy: { id: "desc" }, include, take: 3 });
        expect(comparable(await publishedReviews(deps, { include, take: 3 }, businessId))).toEqual(
          withoutPasswordHashes(expected),
        );
        const last = expected.at(-1);
        if (!last) continue;
        const next = { include, take: 3, skip: 1, cursor: { id: last.id } };
        const expectedNext = await deps.db.review.findMany({ ...next, where, orderBy: { id: "desc" } });
        expect(comparable(await publishedReviews(deps, next, businessId))).toEqual(withoutPasswordHashes(expectedNext));
      }
    },
  );

  it.each([
    ["the whole payment", { payment: true, business: true, decidedBy: true }],
    // What the dashboard's RefundRequests document makes Pothos ask for: three payment columns.
    [
      "the payment's selected columns",
      {
        payment: { select: { amountCents: true, currency: true, purchasedAt: true } },
        business: true,
        decidedBy: true,
      },
    ],
  ] satisfies [string, Prisma.RefundRequestInclude][])(
    "answers the refund list as Prisma does (%s), for each status, a business and after a cursor",
    async (_shape, include) => {
      const orderBy: Prisma.RefundRequestOrderByWithRelationInput[] = [
        { payment: { purchasedAt: "asc" } },
        { id: "asc" },
      ];
      const requests = await deps.db.refundRequest.findMany({ select: { businessId: true, status: true } });
      expect(requests.length).toBeGreaterThan(0);
      for (const filter of [
        {},
        { status: "APPROVED" as const },
        { status: "DENIED" as const },
        ...requests.map((r) => ({ status: r.status, businessId: r.businessId })),
      ]) {
        const where = {
          status: filter.status ?? "PENDING",
          ...("businessId" in filter ? { businessId: filter.businessId } : {}),
        };
        const expected = await deps.db.refundRequest.findMany({ where, orderBy, include, take: 2 });
        expect(comparable(await refundRequestPage(deps, { include, take: 2 }, filter))).toEqual(
          withoutPasswordHashes(expected),
        );
        const last = expected.at(-1);
        if (!last) continue;
        const next = { include, take: 2, skip: 1, cursor: { id: last.id } };
        const expectedNext = await deps.db.refundRequest.findMany({ ...next, where, orderBy });
        expect(comparable(await refundRequestPage(deps, next, filter))).toEqual(withoutPasswordHashes(expectedNext));
      }
    },
  );
});

describe("the overview's reads by hand", () => {
  it("reads alerts, jobs, the checkup and the metrics snapshot as Prisma does", async () => {
    const now = new Date();
    await database.db.alert.createMany({
      data: ["RED", "YELLOW", "GREEN"].map((severity, index) => ({
        fingerprint: `hot-reads-${index}`,
        ruleKey: "test.rule",
        severity: severity as "RED",
        status: index === 2 ? ("RESOLVED" as const) : ("FIRING" as const),
        title: `alert ${index}`,
        detail: "detail",
        labels: { region: "x", n: index },
        lastSeenAt: new Date(now.getTime() - index * 1000),
      })),
    });
    await database.db.checkupReport.create({
      data: {
        overall: "YELLOW",
        findings: [{ key: "refund_rate", status: "YELLOW" }],
        trigger: "MANUAL",
        summary: "1 yellow",
      },
    });
    await database.db.healthCheckResult.createMany({
      data: [
        { check: "postgres", ok: true, latencyMs: 3, value: 2.5, checkedAt: new Date(now.getTime() - 120_000) },
        { check: "postgres", ok: false, detail: "timeout", status: "RED", checkedAt: new Date(now.getTime() - 60_000) },
        { check: "stripe", ok: true, latencyMs: 40, checkedAt: new Date(now.getTime() - 30_000) },
      ],
    });
    await database.db.jobRun.create({
      data: {
        jobName: "health-checks",
        queueJobId: "hot-reads-1",
        attempt: 1,
        trigger: "SCHEDULE",
        status: "SUCCEEDED",
        finishedAt: new Date(now.getTime() - 3_600_000),
      },
    });
    const settings = {
      timeZone: "Australia/Melbourne",
      featuredAdoptionTarget: 0.3,
      aiMode: "deterministic" as const,
      aiCostPerCallCents: 1,
      aiMonthlyBudgetCents: 100,
      maxAgeSeconds: 3600,
    };
    const options = {
      scheduledJobs: [
        { name: "health-checks", periodMinutes: 1 },
        { name: "never", periodMinutes: 5 },
      ],
      now,
    };
    // The first read rolls the metrics up and stores the snapshot; both below read it back.
    await loadOverview({ ...deps, settings, now: () => now }, options);
    // The same statements through Prisma's raw queries: pg's parsing (dates, JSON, enums) matches Prisma's.
    const byPrisma = await loadOverview(
      { db: deps.db, sql: prismaSqlReader(deps.db), settings, now: () => now },
      options,
    );
    const byPg = await loadOverview({ ...deps, settings, now: () => now }, options);
    expect(byPg).toEqual(byPrisma);
    // Each list of the one statement is what Prisma's own reads return, timestamps as Dates.
    expect(byPg.openAlerts).toEqual(
      await deps.db.alert.findMany({
        where: { status: { in: ["FIRING", "ACKNOWLEDGED"] } },
        orderBy: [{ severity: "desc" }, { lastSeenAt: "desc" }, { id: "desc" }],
        take: 20,
      }),
    );
    expect(byPg.recentAlerts).toEqual(
      await deps.db.alert.findMany({ orderBy: [{ lastSeenAt: "desc" }, { id: "desc" }], take: 5 }),
    );
    expect(byPg.health).toEqual(healthStatesOf((await latestHealth(deps.db, now)).checks, now));
    // The snapshot parsed once: a second read with nothing rolled up returns the same object.
    expect((await loadOverview({ ...deps, settings, now: () => now }, options)).metrics).toBe(byPg.metrics);
    // A new rollup is read again, even one stored at the same instant (an injected clock).
    await rollupMetrics({ ...deps, settings, now: () => now });
    const afterRollup = await loadOverview({ ...deps, settings, now: () => now }, options);
    expect(afterRollup.metrics).not.toBe(byPg.metrics);
    const stored = await deps.db.metricsSnapshot.findUniqueOrThrow({ where: { key: "current" } });
    expect(afterRollup.metrics).toEqual(stored.metrics);
    expect(byPg.lastCheckup).toEqual(await deps.db.checkupReport.findFirst({ orderBy: { createdAt: "desc" } }));
    expect(byPg.jobsDue.map((job) => job.state).sort()).toEqual(["NEVER_RAN", "RED"].sort());
  });
});
