// The operator's metrics against hand-computed values on a small fixed data set (marketplace
// time zone Australia/Melbourne, UTC+11 in March: a sale at 13:30 UTC is the next Melbourne day),
// the rollup's incremental refresh, the overview in one query, recordSearch, and the business
// look-up — against real PostgreSQL and Redis through the real API.
import { createApiToken } from "@steward/core/apiTokens";
import { createEventBus } from "@steward/core/adapters/redisEvents";
import { dayIn } from "@steward/core/calendar";
import { type Metrics, metricsSettings, rollupMetrics } from "@steward/core/metrics";
import type { PaymentStatus } from "@steward/db/client";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import WebSocket from "ws";
import { createBusiness, createRegion, type PaymentsStack, startPaymentsStack } from "./payments-stack.ts";

let stack: PaymentsStack;
let searchToken: string;

// Wednesday 18 March 2026, 12:30 in Melbourne. The week began Monday 16 March.
const NOW = new Date("2026-03-18T01:30:00Z");
const settings = () => ({ ...metricsSettings(stack.api.env), aiCostPerCallCents: 12.5, aiMonthlyBudgetCents: 1000 });
const at = (iso: string) => new Date(iso);

let charge = 0;
async function payment(
  businessId: string,
  purchasedAt: string,
  options: { amount?: number; currency?: string; status?: PaymentStatus; refunded?: number } = {},
) {
  charge++;
  return stack.db.payment.create({
    data: {
      stripeChargeId: `ch_metrics_${charge}`,
      businessId,
      amountCents: options.amount ?? 2200,
      refundedCents: options.refunded ?? 0,
      currency: options.currency ?? "aud",
      status: options.status ?? "SUCCEEDED",
      purchasedAt: at(purchasedAt),
    },
  });
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startPaymentsStack({ env: { MARKETPLACE_TIME_ZONE: "Australia/Melbourne" } });
  const admin = await stack.db.operator.findUniqueOrThrow({ where: { email: "admin@test.example" } });
  searchToken = (
    await createApiToken(
      { db: stack.db },
      { kind: "OPERATOR", id: admin.id, email: admin.email, name: admin.name, role: admin.role },
      { name: "marketplace search", scopes: ["searches:write"] },
    )
  ).token;

  const north = await createRegion(stack.db, 1);
  const south = await createRegion(stack.db, 5);
  ids.north = north.id;
  ids.south = south.id;
  const [b1, b2, b3, b4] = [
    await createBusiness(stack.db, north.id, "Alpha Dogs"),
    await createBusiness(stack.db, north.id, "Bravo Pups"),
    await createBusiness(stack.db, south.id, "Charlie K9"),
    await createBusiness(stack.db, south.id, "Delta Obedience"),
  ];
  ids.b1 = b1.id;
  const A = await payment(b1.id, "2026-03-17T13:30:00Z"); // Melbourne Wed 18 Mar 00:30: today
  const B = await payment(b2.id, "2026-03-15T12:59:00Z"); // Sun 15 Mar 23:59: last week
  await payment(b2.id, "2026-03-15T13:00:00Z", { status: "REFUNDED", refunded: 2200 }); // Mon 16 Mar 00:00
  const D = await payment(b3.id, "2026-03-01T00:00:00Z"); // 1 Mar
  const E = await payment(b3.id, "2026-02-28T13:30:00Z"); // 1 Mar 00:30 (28 Feb in UTC)
  await payment(b4.id, "2026-02-10T00:00:00Z"); // inside last month's 1–18
  await payment(b4.id, "2026-02-20T00:00:00Z"); // after last month's 18th
  const H = await payment(b4.id, "2026-03-09T01:00:00Z"); // Mon 9 Mar: last week's Mon–Wed
  await payment(b4.id, "2025-06-01T00:00:00Z"); // within the last 365 days
  await payment(b4.id, "2025-03-18T00:00:00Z"); // 365 days before today: the previous LTM
  await payment(b1.id, "2026-03-18T00:00:00Z", { amount: 5000, status: "FAILED" }); // never counted
  await payment(b1.id, "2026-03-18T00:10:00Z", { amount: 1000, currency: "usd" });
  await payment(b2.id, "2026-03-17T00:00:00Z", { status: "PARTIALLY_REFUNDED", refunded: 1100 }); // Tue 17 Mar
  ids.B = B.id;

  // North has 1 slot: A is featured, D and E wait; south has H waiting.
  const place = (paymentId: string, businessId: string, regionId: string, status: "ACTIVE" | "QUEUED", when: Date) =>
    stack.db.placement.create({ data: { paymentId, businessId, regionId, status, purchasedAt: when } });
  await place(A.id, b1.id, north.id, "ACTIVE", A.purchasedAt);
  await place(D.id, b3.id, north.id, "QUEUED", D.purchasedAt);
  await place(E.id, b3.id, north.id, "QUEUED", E.purchasedAt);
  await place(H.id, b4.id, south.id, "QUEUED", H.purchasedAt);

  // Searches by Melbourne day: last 7 days (12–18 Mar) 14, the 7 before (5–11 Mar) 7.
  const searches = [
    ...["2026-03-17T13:05:00Z", "2026-03-18T00:00:00Z", "2026-03-18T01:00:00Z"], // 18 Mar: 3
    ...Array<string>(4).fill("2026-03-17T02:00:00Z"), // 17 Mar
    ...Array<string>(7).fill("2026-03-12T02:00:00Z"), // 12 Mar
    ...Array<string>(5).fill("2026-03-11T02:00:00Z"), // 11 Mar
    "2026-03-04T13:00:00Z", // 5 Mar 00:00
    "2026-03-05T02:00:00Z", // 5 Mar
    "2026-03-04T12:59:00Z", // 4 Mar 23:59: outside both weeks
  ];
  await stack.db.searchEvent.createMany({
    data: searches.map((iso) => ({ query: "puppy school", resultCount: 3, source: "seed", occurredAt: at(iso) })),
  });

  // AI provider calls this Melbourne month (from 28 Feb 13:00 UTC): 4 of them.
  const review = await stack.db.review.create({ data: { businessId: b1.id, rating: 5, body: "Great", source: "t" } });
  const score = (classifier: string, iso: string) =>
    stack.db.reviewScore.create({ data: { reviewId: review.id, classifier, confidence: 0.9, createdAt: at(iso) } });
  await score("provider", "2026-02-28T12:59:00Z"); // February in Melbourne
  await score("provider", "2026-02-28T13:00:00Z");
  await score("provider", "2026-03-10T00:00:00Z");
  await score("provider", "2026-03-11T00:00:00Z");
  await score("provider", "2026-03-18T01:00:00Z");
  await score("deterministic", "2026-03-12T00:00:00Z");

  // Jobs: alpha's latest run failed.
  const run = (jobName: string, status: "SUCCEEDED" | "FAILED", iso: string) =>
    stack.db.jobRun.create({
      data: { jobName, queueJobId: `${jobName}-${iso}`, trigger: "SCHEDULE", attempt: 1, status, startedAt: at(iso) },
    });
  await run("alpha", "SUCCEEDED", "2026-03-17T00:00:00Z");
  await run("alpha", "FAILED", "2026-03-18T00:00:00Z");
  await run("beta", "SUCCEEDED", "2026-03-18T00:00:00Z");

  // Stripe's latest check failed (the earlier one passed); the AI provider was never checked.
  await stack.db.healthCheckResult.create({
    data: { check: "stripe", ok: true, checkedAt: at("2026-03-18T00:00:00Z") },
  });
  await stack.db.healthCheckResult.create({
    data: { check: "stripe", ok: false, detail: "timeout", checkedAt: at("2026-03-18T01:00:00Z") },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe("metrics on a fixed data set", () => {
  let metrics: Metrics;

  beforeAll(async () => {
    metrics = (await rollupMetrics({ db: stack.db, settings: settings(), now: () => NOW })).metrics;
  });

  it("computes revenue WTD, MTD and LTM by Melbourne day, net of refunds, against the previous period", () => {
    expect(metrics.today).toBe("2026-03-18");
    expect(metrics.revenue.map((revenue) => revenue.currency)).toEqual(["aud", "usd"]);
    const aud = metrics.revenue[0]!;
    // Mon 16 (refunded: 0) + Tue 17 (2200 − 1100) + Wed 18 (2200); last week's Mon–Wed: 9 Mar.
    expect(aud.wtd).toEqual({
      from: "2026-03-16",
      to: "2026-03-18",
      netCents: 3300,
      previousNetCents: 2200,
      change: 0.5,
    });
    // 1 Mar (two, one of them 28 Feb in UTC) + 9 + 15 + 16 + 17 + 18 Mar; last month's 1–18: 10 Feb only.
    expect(aud.mtd).toMatchObject({ from: "2026-03-01", netCents: 12_100, previousNetCents: 2200, change: 4.5 });
    expect(aud.mtd.projectedMonthEndCents).toBe(Math.round((12_100 / 18) * 31));
    expect(aud.ltm).toMatchObject({ from: "2025-03-19", netCents: 18_700, previousNetCents: 2200, change: 7.5 });
    expect(metrics.revenue[1]!.wtd).toMatchObject({ netCents: 1000, previousNetCents: 0, change: null });
    expect(aud.daily).toHaveLength(90);
    expect(aud.daily.at(-1)).toEqual({ day: "2026-03-18", value: 2200 });
    expect(aud.daily.find((day) => day.day === "2026-03-01")?.value).toBe(4400);
  });

  it("computes the refund rate as its alert does: the rule's 7-day window and threshold, every currency, partial refunds", () => {
    // Purchased in the 7 days before NOW and succeeded: 5 (the failed one excluded); 2 refunded.
    expect(metrics.refundRate).toMatchObject({ windowDays: 7, payments: 5, refunded: 2, threshold: 0.15 });
    expect(metrics.refundRate.rate).toBeCloseTo(2 / 5, 10);
  });

  it("computes featured adoption, queue backlog per region, and AI cost this month", () => {
    expect(metrics.featuredAdoption).toEqual({ featuredBusinesses: 1, businesses: 4, rate: 0.25, target: 0.25 });
    expect(metrics.queueBacklog.total).toBe(3);
    expect(metrics.queueBacklog.regions.map((region) => [region.regionId, region.queued, region.active])).toEqual([
      [ids.north, 2, 1],
      [ids.south, 1, 0],
    ]);
    expect(metrics.aiProvider).toMatchObject({
      callsThisMonth: 4,
      costThisMonthCents: 50,
      budgetCents: 1000,
      costSource: "estimated",
    });
    expect(metrics.aiProvider.health.state).toBe("UNKNOWN");
  });

  it("computes search volume per Melbourne day with its week-over-week trend", () => {
    expect(metrics.searchVolume.today).toBe(3);
    expect(metrics.searchVolume.averagePerDay).toBe(2);
    expect(metrics.searchVolume.change).toBe(1);
    expect(metrics.searchVolume.daily.find((day) => day.day === "2026-03-05")?.value).toBe(2);
    expect(metrics.searchVolume.daily.find((day) => day.day === "2026-03-04")?.value).toBe(1);
  });

  it("reports job and Stripe status from the latest rows", () => {
    expect(metrics.jobs.failing).toBe(1);
    expect(metrics.jobs.latest.map((job) => [job.jobName, job.status])).toEqual([
      ["alpha", "FAILED"],
      ["beta", "SUCCEEDED"],
    ]);
    expect(metrics.stripe.api).toMatchObject({ state: "FAILING", detail: "timeout" });
    expect(metrics.stripe.webhooks.state).toBe("UNKNOWN");
  });

  it("folds a later refund of an older payment into its day on the next rollup, and a rerun changes nothing", async () => {
    await stack.db.payment.update({ where: { id: ids.B! }, data: { status: "REFUNDED", refundedCents: 2200 } });
    const after = (await rollupMetrics({ db: stack.db, settings: settings(), now: () => NOW })).metrics;
    expect(after.revenue[0]!.mtd.netCents).toBe(12_100 - 2200);
    expect(after.revenue[0]!.wtd.netCents).toBe(3300); // 15 March was last week
    expect(after.refundRate.refunded).toBe(3);
    const days = async () =>
      (await stack.db.revenueDaily.findMany({ orderBy: [{ day: "asc" }, { currency: "asc" }] })).map(
        ({ updatedAt: _updatedAt, ...row }) => row,
      );
    const rows = await days();
    const again = (await rollupMetrics({ db: stack.db, settings: settings(), now: () => NOW })).metrics;
    expect(again).toEqual(after);
    expect(await days()).toEqual(rows);
  });

  it("also folds in a payment changed by raw SQL later (a trigger keeps updatedAt honest)", async () => {
    const business = await stack.db.business.findFirstOrThrow({ where: { name: "Delta Obedience" } });
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    const day = dayIn(threeDaysAgo, "Australia/Melbourne");
    const late = await payment(business.id, threeDaysAgo.toISOString(), { amount: 7700 });
    // As if it had been recorded yesterday: the next rollup folds it in once, then leaves it.
    await stack.db.$executeRaw`ALTER TABLE "Payment" DISABLE TRIGGER payment_touch_updated_at`;
    await stack.db.$executeRaw`UPDATE "Payment" SET "updatedAt" = now() - interval '1 day' WHERE id = ${late.id}::uuid`;
    await stack.db.$executeRaw`ALTER TABLE "Payment" ENABLE TRIGGER payment_touch_updated_at`;
    const valueOn = (metrics: Metrics) => metrics.revenue[0]!.daily.find((point) => point.day === day)?.value ?? 0;
    const before = (await rollupMetrics({ db: stack.db, settings: settings() })).metrics;
    await stack.db
      .$executeRaw`UPDATE "Payment" SET status = 'REFUNDED', "refundedCents" = 7700 WHERE id = ${late.id}::uuid`;
    const after = (await rollupMetrics({ db: stack.db, settings: settings() })).metrics;
    expect(valueOn(before) - valueOn(after)).toBe(7700);
    expect(after.refundRate.refunded).toBe(before.refundRate.refunded + 1);
  });
});

const OVERVIEW = `query {
  overview(window: LAST_7_DAYS) {
    status
    openAlerts { title severity status }
    recentAlerts { title }
    pendingTasks { kind count estimatedMinutes priority href }
    health { check state }
    metrics { computedAt revenue { currency mtd { netCents } daily { day value } } searchVolume { today daily { value } } }
  }
}`;

interface OverviewAnswer {
  overview: {
    status: string;
    openAlerts: { title: string; severity: string; status: string }[];
    recentAlerts: { title: string }[];
    pendingTasks: { kind: string; count: number; estimatedMinutes: number; priority: number; href: string }[];
    health: { check: string; state: string }[];
    metrics: {
      computedAt: string;
      revenue: { currency: string; mtd: { netCents: number }; daily: { day: string; value: number }[] }[];
      searchVolume: { today: number; daily: { value: number }[] };
    };
  };
}

describe("the overview query", () => {
  it("shows the worst open alert, red first, the pending work by priority and fresh metrics in one query", async () => {
    const alert = (title: string, severity: "RED" | "YELLOW", status: "FIRING" | "ACKNOWLEDGED" | "RESOLVED") =>
      stack.db.alert.create({
        data: { fingerprint: `test:${title}`, ruleKey: "test", severity, status, title, detail: title },
      });
    await alert("Queue long in north", "YELLOW", "FIRING");
    await alert("AI provider down", "RED", "ACKNOWLEDGED");
    await alert("Old webhook failure", "RED", "RESOLVED");
    await alert("Refund rate high", "YELLOW", "FIRING");
    const business = await stack.db.business.findUniqueOrThrow({ where: { id: ids.b1! } });
    await stack.db.business.update({ where: { id: business.id }, data: { status: "FLAGGED_FOR_REVIEW" } });
    for (let index = 0; index < 3; index++)
      await stack.db.review.create({
        data: { businessId: business.id, rating: 4, body: `Nice ${index}`, source: "t" },
      });
    const paymentB = await stack.db.payment.findUniqueOrThrow({ where: { id: ids.B! } });
    await stack.db.refundRequest.create({
      data: {
        paymentId: paymentB.id,
        businessId: paymentB.businessId,
        reason: "Wrong region",
        requestedBy: "test",
        idempotencyKey: "refund-request-test",
      },
    });

    const result = await stack.api.graphql<OverviewAnswer>(OVERVIEW, {}, { cookie: stack.viewerCookie });
    expect(result.errors).toBeUndefined();
    const overview = result.data!.overview;
    expect(overview.status).toBe("RED");
    expect(overview.openAlerts.map((open) => open.title)).toEqual([
      "AI provider down",
      "Refund rate high",
      "Queue long in north",
    ]);
    expect(overview.recentAlerts).toHaveLength(4);
    // The review created in beforeAll is pending too: 4 reviews.
    // Firing alerts are work (the acknowledged one is being handled); so are jobs that never ran.
    expect(overview.pendingTasks).toEqual([
      { kind: "ALERTS", count: 2, estimatedMinutes: 10, priority: 1, href: "/alerts" },
      { kind: "REFUNDS", count: 1, estimatedMinutes: 10, priority: 1, href: "/refunds" },
      // Every periodic job of the catalog, none of which ran here (data retention and the two backup jobs included).
      { kind: "JOBS", count: 9, estimatedMinutes: 45, priority: 3, href: "/jobs" },
      { kind: "DISPUTES", count: 1, estimatedMinutes: 15, priority: 3, href: "/disputes" },
      { kind: "REVIEWS", count: 4, estimatedMinutes: 6, priority: 4, href: "/reviews" },
      { kind: "RECONCILIATION", count: 0, estimatedMinutes: 0, priority: 2, href: "/reconciliation" },
    ]);
    expect(overview.health.find((check) => check.check === "stripe")?.state).toBe("FAILING");
    expect(overview.health.find((check) => check.check === "postgres")?.state).toBe("UNKNOWN");
    // The snapshot was computed for March: far older than a minute, so the overview recomputed it now.
    expect(Date.now() - Date.parse(overview.metrics.computedAt)).toBeLessThan(60_000);
    expect(overview.metrics.revenue[0]!.daily).toHaveLength(7);
  });

  it("is never Green over a failing check: the banner takes the worst of open alerts and checks, and says why", async () => {
    const STATUS = `{ overview { status statusCauses jobsDue { name state } health { check state } } }`;
    type StatusAnswer = {
      overview: {
        status: string;
        statusCauses: string[];
        jobsDue: { name: string; state: string }[];
        health: { check: string; state: string }[];
      };
    };
    const savedAlerts = await stack.db.alert.findMany({ where: { status: { not: "RESOLVED" } }, select: { id: true } });
    await stack.db.alert.updateMany({
      where: { id: { in: savedAlerts.map((alert) => alert.id) } },
      data: { status: "RESOLVED" },
    });
    try {
      // No open alert, but the AI provider's latest probe failed (the rules made it yellow).
      await stack.db.healthCheckResult.create({
        data: { check: "ai_provider", ok: false, detail: "HTTP 503", status: "YELLOW", checkedAt: new Date() },
      });
      const result = await stack.api.graphql<StatusAnswer>(STATUS, {}, { cookie: stack.viewerCookie });
      expect(result.errors).toBeUndefined();
      const overview = result.data!.overview;
      expect(overview.status).toBe("YELLOW");
      expect(overview.statusCauses).toContainEqual(expect.stringMatching(/^failing: .*ai_provider/));
      // The scheduled jobs never ran here: named, so the Jobs card cannot say "All passing".
      expect(overview.jobsDue.map((job) => job.state)).toContain("NEVER_RAN");
      expect(overview.health.find((check) => check.check === "ai_provider")?.state).toBe("FAILING");
    } finally {
      await stack.db.alert.updateMany({
        where: { id: { in: savedAlerts.map((alert) => alert.id) } },
        data: { status: "FIRING" },
      });
    }
  });

  it("keeps the longest queues when asked for the first regions, and refuses a count below one", async () => {
    const BACKLOG = `query ($first: Int) { overview { metrics { queueBacklog { total regions(first: $first) { regionId queued } } } } }`;
    type Backlog = {
      overview: { metrics: { queueBacklog: { total: number; regions: { regionId: string; queued: number }[] } } };
    };
    const one = await stack.api.graphql<Backlog>(BACKLOG, { first: 1 }, { cookie: stack.viewerCookie });
    expect(one.errors).toBeUndefined();
    expect(one.data!.overview.metrics.queueBacklog.total).toBe(3);
    expect(one.data!.overview.metrics.queueBacklog.regions).toEqual([{ regionId: ids.north, queued: 2 }]);
    const all = await stack.api.graphql<Backlog>(BACKLOG, {}, { cookie: stack.viewerCookie });
    expect(all.data!.overview.metrics.queueBacklog.regions.map((region) => region.regionId)).toEqual([
      ids.north,
      ids.south,
    ]);
    const zero = await stack.api.graphql<Backlog>(BACKLOG, { first: 0 }, { cookie: stack.viewerCookie });
    expect(zero.errors?.length).toBeGreaterThan(0);
    expect(zero.data?.overview ?? null).toBeNull();
  });

  it("is for signed-in operators only", async () => {
    const anonymous = await stack.api.graphql(OVERVIEW);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const token = await stack.api.graphql(OVERVIEW, {}, { bearer: stack.readToken });
    expect(token.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

const RECORD = `mutation ($query: String!, $resultCount: Int!, $region: String, $occurredAt: DateTime) {
  recordSearch(query: $query, resultCount: $resultCount, region: $region, occurredAt: $occurredAt) {
    __typename
    ... on MutationRecordSearchSuccess { data { id query } }
    ... on Error { message }
  }
}`;

describe("recordSearch", () => {
  it("records an integration's search and the next rollup counts it today", async () => {
    const before = (await rollupMetrics({ db: stack.db, settings: settings() })).metrics.searchVolume.today;
    const region = await stack.db.region.findUniqueOrThrow({ where: { id: ids.north! } });
    const result = await stack.api.graphql<{ recordSearch: { __typename: string } }>(
      RECORD,
      { query: "reactive dog", resultCount: 2, region: region.slug },
      { bearer: searchToken },
    );
    expect(result.data?.recordSearch.__typename).toBe("MutationRecordSearchSuccess");
    const stored = await stack.db.searchEvent.findFirstOrThrow({ where: { query: "reactive dog" } });
    expect(stored).toMatchObject({ regionId: region.id, resultCount: 2, source: "token:marketplace search" });
    expect(stored.apiTokenId).not.toBeNull();
    const after = (await rollupMetrics({ db: stack.db, settings: settings() })).metrics.searchVolume.today;
    expect(after).toBe(before + 1);
  });

  it("refuses bad input with typed errors and tokens without the scope, storing nothing", async () => {
    const count = await stack.db.searchEvent.count();
    const ask = async (variables: Record<string, unknown>, bearer = searchToken) =>
      stack.api.graphql<{ recordSearch: { __typename: string; message?: string } }>(
        RECORD,
        { query: "x", resultCount: 1, ...variables },
        { bearer },
      );
    expect((await ask({ resultCount: -1 })).data?.recordSearch.__typename).toBe("ValidationError");
    expect((await ask({ region: "nowhere" })).data?.recordSearch.__typename).toBe("NotFoundError");
    const old = await ask({ occurredAt: new Date(Date.now() - 2 * 86_400_000).toISOString() });
    expect(old.data?.recordSearch).toMatchObject({ __typename: "InvalidInputError" });
    const wrongScope = await ask({}, stack.readToken);
    expect(wrongScope.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await stack.db.searchEvent.count()).toBe(count);
  });
});

describe("metricsUpdated", () => {
  it("pushes fresh metrics to a subscriber when the rollup stores them", async () => {
    const cookie = stack.operatorCookie;
    const workerBus = createEventBus(stack.api.env.REDIS_URL, stack.api.env.REDIS_PREFIX);
    onTestFinished(() => workerBus.close());
    class CookieWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers: { cookie } });
      }
    }
    const client = createClient({
      url: `${stack.api.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: CookieWebSocket,
      retryAttempts: 0,
    });
    try {
      const received: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        client.subscribe<{ metricsUpdated: { computedAt: string } }>(
          { query: "subscription { metricsUpdated { computedAt queueBacklog { total } } }" },
          {
            next: (message) => {
              if (message.data) received.push(message.data.metricsUpdated.computedAt);
              resolve();
            },
            error: reject,
            complete: () => undefined,
          },
        );
      });
      // The worker's side: its own Redis connection. Publish until the API's Redis subscription
      // is in place (it subscribes asynchronously after the websocket subscribe).
      for (let attempt = 0; attempt < 50 && received.length === 0; attempt++) {
        await rollupMetrics({ db: stack.db, settings: settings(), events: workerBus.bus });
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 200))]);
      }
      expect(received.length).toBeGreaterThan(0);
      expect(Date.now() - Date.parse(received[0]!)).toBeLessThan(60_000);
    } finally {
      await client.dispose();
    }
  });
});

const BUSINESS = `query ($id: ID!) {
  business(id: $id) {
    name email status
    payments { stripeChargeId status amountCents }
    placements { status }
    refundRequests { reason status }
    reviews(first: 10) { totalCount edges { node { body } } }
    queuePosition { status position }
  }
}`;

describe("the business look-up", () => {
  it("shows one business's payments, placements, queue position, reviews and refunds on one answer", async () => {
    const business = await stack.db.business.findFirstOrThrow({ where: { name: "Charlie K9" } });
    await stack.db.review.create({ data: { businessId: business.id, rating: 2, body: "Late twice", source: "t" } });
    const id = Buffer.from(`Business:${business.id}`).toString("base64");
    const result = await stack.api.graphql<{
      business: {
        name: string;
        payments: { stripeChargeId: string }[];
        placements: { status: string }[];
        reviews: { totalCount: number; edges: { node: { body: string } }[] };
        queuePosition: { status: string; position: number | null };
        refundRequests: unknown[];
      } | null;
    }>(BUSINESS, { id }, { cookie: stack.viewerCookie });
    expect(result.errors).toBeUndefined();
    const answer = result.data!.business!;
    expect(answer.name).toBe("Charlie K9");
    expect(answer.payments).toHaveLength(2);
    expect(answer.placements.map((placement) => placement.status)).toEqual(["QUEUED", "QUEUED"]);
    expect(answer.queuePosition).toEqual({ status: "QUEUED", position: 1 });
    expect(answer.reviews.totalCount).toBe(1);
    expect(answer.reviews.edges[0]!.node.body).toBe("Late twice");
    expect(answer.refundRequests).toEqual([]);
    // Integrations with a read token see the business's name, never its email or payments.
    const asToken = await stack.api.graphql(BUSINESS, { id }, { bearer: stack.readToken });
    expect(asToken.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
