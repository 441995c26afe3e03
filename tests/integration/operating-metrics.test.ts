// The Metrics page's operating metrics (issue 19.3) against hand-computed values: queue wait and
// velocity, placements ended early, refunds by reason and region, payment failure rate, AI uptime
// and calls by classifier, top search terms; computed by the rollup job into their own snapshot
// and read through GraphQL by viewers and metrics tokens.
import { createApiToken } from "@steward/core/apiTokens";
import { refreshOperatingMetrics } from "@steward/core/operatingMetrics";
import type { Db, PaymentStatus } from "@steward/db/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const HOUR = 3_600_000;
let api: TestApi;
let db: Db;
let viewerCookie: string;
let metricsToken: string;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR);

let charges = 0;
async function payment(businessId: string, status: PaymentStatus, purchasedAt = ago(30)) {
  return db.payment.create({
    data: {
      stripeChargeId: `ch_operating_${++charges}`,
      businessId,
      amountCents: 2200,
      refundedCents: status === "REFUNDED" ? 2200 : 0,
      currency: "aud",
      status,
      purchasedAt,
    },
  });
}

beforeAll(async () => {
  api = await startTestApi({ MARKETPLACE_TIME_ZONE: "UTC" });
  db = api.database.db;
  const admin = await createOperator(db, "ADMIN", "ada@test.example");
  await createOperator(db, "VIEWER", "vic@test.example");
  viewerCookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
  metricsToken = (
    await createApiToken(
      { db },
      { kind: "OPERATOR", id: admin.id, email: admin.email, name: admin.name, role: admin.role },
      { name: "wallboard", scopes: ["metrics:read"] },
    )
  ).token;

  const yarra = await db.region.create({ data: { slug: "yarra", name: "Yarra" } });
  const darebin = await db.region.create({ data: { slug: "darebin", name: "Darebin" } });
  const business = (regionId: string, name: string) =>
    db.business.create({ data: { regionId, name, email: `${name.toLowerCase()}@test.example` } });
  const [a, b, c] = await Promise.all([
    business(yarra.id, "Alpha"),
    business(yarra.id, "Bravo"),
    business(darebin.id, "Charlie"),
  ]);

  // Two promotions from the queue: waited 10 h and 20 h; one placement activated at once (not a promotion).
  const placement = (businessId: string, regionId: string, purchasedAt: Date, activatedAt: Date, extra = {}) =>
    db.placement.create({ data: { businessId, regionId, status: "ACTIVE", purchasedAt, activatedAt, ...extra } });
  await placement(a.id, yarra.id, ago(12), ago(2));
  await placement(b.id, yarra.id, ago(24), ago(4));
  await placement(c.id, darebin.id, ago(3), ago(3));
  // Ended early: it ran, then was refunded (this month).
  await placement(c.id, darebin.id, ago(5), ago(5), { status: "REFUNDED", endedAt: ago(0.01) });

  // Refunds: two in Yarra, one in Darebin; requests by reason (a denied one does not count).
  const refunded = [await payment(a.id, "REFUNDED"), await payment(b.id, "REFUNDED"), await payment(c.id, "REFUNDED")];
  const request = (paymentId: string, businessId: string, reason: string, status: "APPROVED" | "DENIED", n: number) =>
    db.refundRequest.create({
      data: { paymentId, businessId, reason, requestedBy: "OPERATOR:test", status, idempotencyKey: `operating-${n}` },
    });
  await request(refunded[0]!.id, a.id, "duplicate purchase", "APPROVED", 1);
  await request(refunded[1]!.id, b.id, "duplicate purchase", "APPROVED", 2);
  await request(refunded[2]!.id, c.id, "wrong region", "APPROVED", 3);
  await request(refunded[2]!.id, c.id, "changed mind", "DENIED", 4);

  // Payments: 1 failed of 5 settled (the 3 refunded, 1 succeeded, 1 failed); a pending one is not settled.
  await payment(a.id, "SUCCEEDED");
  await payment(b.id, "FAILED");
  await payment(c.id, "PENDING");

  // AI provider: 3 of 4 checks passed; calls by classifier this month.
  await db.healthCheckResult.createMany({
    data: [true, true, true, false].map((ok, index) => ({
      check: "ai_provider",
      ok,
      status: ok ? ("GREEN" as const) : ("YELLOW" as const),
      detail: "test",
      checkedAt: ago(index + 1),
    })),
  });
  const review = await db.review.create({ data: { businessId: a.id, rating: 5, body: "Great", source: "test" } });
  await db.reviewScore.createMany({
    data: [
      { reviewId: review.id, classifier: "provider", confidence: 0.9 },
      { reviewId: review.id, classifier: "provider", confidence: 0.8 },
      { reviewId: review.id, classifier: "deterministic", confidence: 0.7 },
    ],
  });

  // Searches: trimmed and lower-cased; last week's only.
  await db.searchEvent.createMany({
    data: [
      ...["Puppy school", "puppy school ", "PUPPY SCHOOL", "recall", "recall", "leash"].map((query) => ({
        query,
        resultCount: 3,
        source: "test",
      })),
      { query: "ancient", resultCount: 1, source: "test", occurredAt: ago(24 * 10) },
    ],
  });
});

afterAll(async () => {
  await api?.stop();
});

describe("operating metrics", () => {
  it("computes each metric from the data, stores them and recomputes only when stale", async () => {
    const first = await refreshOperatingMetrics(db, { timeZone: "UTC" });
    expect(first.refreshed).toBe(true);
    const metrics = first.metrics;
    expect(metrics.queueWait.averageHours).toBe(15);
    expect(metrics.queueVelocity.lastFourWeeksPerWeek).toBe(0.5);
    expect(metrics.queueVelocity.weekly).toHaveLength(12);
    // Both promotions in the last week or two (the series ends with this week).
    expect(metrics.queueVelocity.weekly.slice(-2).reduce((total, week) => total + week.value, 0)).toBe(2);
    expect(metrics.endedEarly.thisMonth).toBe(1);
    expect(metrics.endedEarly.monthly).toHaveLength(12);
    expect(metrics.refundsByReason).toEqual([
      { key: "duplicate purchase", count: 2 },
      { key: "wrong region", count: 1 },
    ]);
    expect(metrics.refundsByRegion).toEqual([
      { key: "Yarra", count: 2 },
      { key: "Darebin", count: 1 },
    ]);
    expect(metrics.paymentFailureRate).toMatchObject({ failed: 1, settled: 5, rate: 0.2 });
    expect(metrics.paymentFailureRate.weekly.at(-1)?.value).toBe(20); // created now: this week
    expect(metrics.aiUptime.percent).toBe(75);
    expect(metrics.aiUptime.callsByClassifierThisMonth).toEqual([
      { key: "provider", count: 2 },
      { key: "deterministic", count: 1 },
    ]);
    expect(metrics.topSearchTerms).toEqual([
      { key: "puppy school", count: 3 },
      { key: "recall", count: 2 },
      { key: "leash", count: 1 },
    ]);

    // Fresh: the next rollup reuses them; stale: recomputed.
    expect((await refreshOperatingMetrics(db, { timeZone: "UTC" })).refreshed).toBe(false);
    expect((await refreshOperatingMetrics(db, { timeZone: "UTC" }, new Date(Date.now() + 11 * 60_000))).refreshed).toBe(
      true,
    );
  });

  it("is read through GraphQL by viewers and metrics tokens, not by anonymous callers", async () => {
    const query = `{ operatingMetrics { queueWait { averageHours } refundsByRegion { key count }
      aiUptime { percent callsByClassifierThisMonth { key count } } topSearchTerms { key count } } }`;
    const asViewer = await api.graphql<{
      operatingMetrics: { queueWait: { averageHours: number }; refundsByRegion: { key: string; count: number }[] };
    }>(query, {}, { cookie: viewerCookie });
    expect(asViewer.errors).toBeUndefined();
    expect(asViewer.data?.operatingMetrics.queueWait.averageHours).toBe(15);
    expect(asViewer.data?.operatingMetrics.refundsByRegion[0]).toEqual({ key: "Yarra", count: 2 });
    const asToken = await api.graphql(query, {}, { bearer: metricsToken });
    expect(asToken.errors).toBeUndefined();
    const anonymous = await api.graphql(query);
    expect(anonymous.errors?.[0]?.extensions?.["code"]).toBe("UNAUTHENTICATED");
  });
});
