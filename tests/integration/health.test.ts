// Health checks, alert rules, the AI failover automation and its guard, flags and rule tuning,
// against real PostgreSQL and Redis, the Stripe sandbox (real SDK) and the AI sandbox (HTTP).
import { systemActor } from "@steward/core/actor";
import { repeatRefundersOf } from "@steward/core/alertRules";
import { createApiToken } from "@steward/core/apiTokens";
import { ForbiddenActionError } from "@steward/core/errors";
import { createEventBus } from "@steward/core/adapters/redisEvents";
import { setFeatureFlag } from "@steward/core/featureFlags";
import { latestHealth, runHealthChecks, type HealthDeps } from "@steward/core/health";
import { publishQueryLatencyOnce, QueryLatencyWindow } from "@steward/core/queryLatency";
import { approveRefund, requestRefund } from "@steward/core/refunds";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import { createPrismaClient, type Db } from "@steward/db/client";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AiSandbox, startAiSandbox } from "../../sandbox/src/ai/server.ts";
import { startStripeSandbox, type StripeSandbox } from "../../sandbox/src/stripe/server.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import type { JobQueue } from "@steward/jobs/queue";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";
import { quietDeps } from "../support/deps.ts";

const MINUTE = 60_000;
let api: TestApi;
let db: Db;
let ai: AiSandbox;
let stripeSandbox: StripeSandbox;
let redis: Redis;
let deps: HealthDeps;
let adminCookie: string;
let operatorCookie: string;
let viewerCookie: string;
let operatorActor: Parameters<typeof setFeatureFlag>[1];

beforeAll(async () => {
  ai = await startAiSandbox({ port: 0 });
  stripeSandbox = await startStripeSandbox({ port: 0, rateLimitPerSecond: false });
  api = await startTestApi({
    AI_PROVIDER_URL: ai.url,
    AI_TIMEOUT_MS: "1000",
    STRIPE_API_HOST: stripeSandbox.host,
    STRIPE_API_PORT: String(stripeSandbox.port),
    STRIPE_API_PROTOCOL: "http",
    STRIPE_API_KEY: stripeSandbox.apiKey,
  });
  db = api.database.db;
  redis = new Redis(api.env.REDIS_URL, { maxRetriesPerRequest: null });
  deps = { ...quietDeps(db), redis, env: api.env, stripe: createStripeGateway(api.env) };
  await createOperator(db, "ADMIN", "ada@test.example");
  const operator = await createOperator(db, "OPERATOR", "olive@test.example");
  await createOperator(db, "VIEWER", "vic@test.example");
  operatorActor = { kind: "OPERATOR", id: operator.id, email: operator.email, name: operator.name, role: "OPERATOR" };
  adminCookie = await api.loginCookie("ada@test.example", TEST_PASSWORD);
  operatorCookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
  viewerCookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
});

afterAll(async () => {
  redis.disconnect();
  await api.stop();
  await ai.stop();
  await stripeSandbox.stop();
});

async function region(slug: string) {
  return db.region.create({ data: { slug, name: slug[0]!.toUpperCase() + slug.slice(1) } });
}

async function business(regionId: string, name: string, createdAt = new Date(Date.now() - 90 * 24 * 60 * MINUTE)) {
  return db.business.create({ data: { regionId, name, email: `${name.replace(/\W/g, "")}@test.example`, createdAt } });
}

let chargeSeq = 0;
async function payment(businessId: string, status: "SUCCEEDED" | "REFUNDED", purchasedAt = new Date()) {
  return db.payment.create({
    data: {
      stripeChargeId: `ch_health_${++chargeSeq}`,
      businessId,
      amountCents: 2200,
      refundedCents: status === "REFUNDED" ? 2200 : 0,
      currency: "aud",
      status,
      purchasedAt,
    },
  });
}

describe("AI provider down: the automation switches AI_MODE after 30 minutes, proposes switching back", () => {
  it("29 min → no switch; 31 min → switched, recorded and alerted; healthy long enough → a proposal, not a switch", async () => {
    await setFeatureFlag({ db, env: api.env }, operatorActor, {
      key: "AI_MODE",
      value: "provider",
      reason: "provider contract signed",
    });
    const t0 = new Date(Date.now() + 1000);
    ai.setMode("down");

    await runHealthChecks(deps, t0);
    const at29 = await runHealthChecks(deps, new Date(t0.getTime() + 29 * MINUTE));
    expect(at29.failover.decision.action).toBe("NONE");
    expect((await db.featureFlag.findUniqueOrThrow({ where: { key: "AI_MODE" } })).value).toBe("provider");
    expect(await db.alert.findUnique({ where: { fingerprint: "ai.provider_down" } })).toBeNull();
    const aiResult29 = at29.results.find((result) => result.check === "ai_provider");
    expect(aiResult29).toMatchObject({ ok: false, status: "YELLOW" });

    const at31 = await runHealthChecks(deps, new Date(t0.getTime() + 31 * MINUTE));
    expect(at31.failover.decision.action).toBe("SWITCH_TO_DETERMINISTIC");
    expect(at31.overall).toBe("RED");
    expect((await db.featureFlag.findUniqueOrThrow({ where: { key: "AI_MODE" } })).value).toBe("deterministic");
    const [switched] = await db.featureFlagChange.findMany({ where: { flagKey: "AI_MODE" }, orderBy: { id: "desc" } });
    expect(switched).toMatchObject({
      fromValue: "provider",
      toValue: "deterministic",
      actorKind: "SYSTEM",
      actorLabel: "system:automation.ai_failover",
    });
    expect(switched?.reason).toMatch(/down for 31 min/);
    const audit = await db.auditEvent.findFirstOrThrow({
      where: { action: "flag.set", targetId: "AI_MODE", actorKind: "SYSTEM" },
    });
    expect(audit).toMatchObject({ before: { value: "provider" }, after: { value: "deterministic" } });
    const outage = await db.alert.findUniqueOrThrow({
      where: { fingerprint: "ai.provider_down" },
      include: { events: true },
    });
    expect(outage).toMatchObject({ severity: "RED", status: "FIRING", ruleKey: "ai.provider_down" });
    expect(outage.events.map((event) => event.kind)).toContain("ACTION_TAKEN");
    expect(await db.alert.findUniqueOrThrow({ where: { fingerprint: "automation.ai_mode_switched" } })).toMatchObject({
      severity: "YELLOW",
      status: "FIRING",
    });

    // Still down: the same alert is updated, nothing is switched again.
    const at35 = await runHealthChecks(deps, new Date(t0.getTime() + 35 * MINUTE));
    expect(at35.failover.decision.action).toBe("NONE");
    expect(await db.alert.count({ where: { ruleKey: "ai.provider_down" } })).toBe(1);
    expect((await db.alert.findUniqueOrThrow({ where: { fingerprint: "ai.provider_down" } })).count).toBe(2);
    expect(await db.featureFlagChange.count({ where: { flagKey: "AI_MODE", actorKind: "SYSTEM" } })).toBe(1);

    // Back up: the outage resolves with a note; a proposal comes only after 30 healthy minutes.
    ai.setMode("ok");
    const back = t0.getTime() + 40 * MINUTE;
    await runHealthChecks(deps, new Date(back));
    const resolved = await db.alert.findUniqueOrThrow({ where: { fingerprint: "ai.provider_down" } });
    expect(resolved.status).toBe("RESOLVED");
    expect(resolved.resolutionNote).toMatch(/back within its threshold/);
    const at29Healthy = await runHealthChecks(deps, new Date(back + 29 * MINUTE));
    expect(at29Healthy.failover.decision.action).toBe("NONE");
    const at30Healthy = await runHealthChecks(deps, new Date(back + 30 * MINUTE));
    expect(at30Healthy.failover.decision.action).toBe("PROPOSE_PROVIDER");
    const flag = await db.featureFlag.findUniqueOrThrow({ where: { key: "AI_MODE" } });
    expect(flag).toMatchObject({ value: "deterministic", proposedValue: "provider" });
    expect(
      await db.alert.findUniqueOrThrow({ where: { fingerprint: "automation.ai_mode_switch_back_proposed" } }),
    ).toMatchObject({
      severity: "GREEN",
      status: "FIRING",
    });

    // The operator accepts through the API: the proposal is answered, its alerts resolve.
    const accepted = await api.graphql<{
      setFeatureFlag: { __typename: string; data?: { value: string; proposal: null } };
    }>(
      `mutation { setFeatureFlag(key: "AI_MODE", value: "provider", reason: "provider stable again") {
        __typename ... on MutationSetFeatureFlagSuccess { data { value proposal { value } } } } }`,
      {},
      { cookie: operatorCookie },
    );
    expect(accepted.data?.setFeatureFlag).toMatchObject({ data: { value: "provider", proposal: null } });
    await runHealthChecks(deps, new Date(back + 31 * MINUTE));
    for (const fingerprint of ["automation.ai_mode_switched", "automation.ai_mode_switch_back_proposed"])
      expect((await db.alert.findUniqueOrThrow({ where: { fingerprint } })).status).toBe("RESOLVED");
  });
});

describe("the autonomy guard", () => {
  it("refuses approveRefund and requestRefund by the system actor and changes nothing", async () => {
    const r = await region("guarded");
    const b = await business(r.id, "Guarded Trainer");
    const p = await payment(b.id, "SUCCEEDED", new Date(Date.now() - 10 * 24 * 60 * MINUTE));
    const request = await db.refundRequest.create({
      data: {
        paymentId: p.id,
        businessId: b.id,
        reason: "test",
        requestedBy: "OPERATOR:x",
        idempotencyKey: `refund-request-guard-${p.id}`,
      },
    });
    const events = createEventBus(api.env.REDIS_URL, api.env.REDIS_PREFIX);
    const enqueued: string[] = [];
    const jobs: JobQueue = {
      enqueue: (name) => {
        enqueued.push(name);
        return Promise.resolve(name);
      },
      enqueueMany: (name) => {
        enqueued.push(name);
        return Promise.resolve();
      },
      isActive: () => Promise.resolve(false),
    };
    const refundDeps = { ...api.deps, db, events: events.bus, jobs };
    const system = systemActor("automation.ai_failover");
    await expect(approveRefund(refundDeps, system, request.id)).rejects.toThrow(ForbiddenActionError);
    await expect(requestRefund(refundDeps, system, { paymentId: p.id, reason: "automatic" })).rejects.toThrow(
      ForbiddenActionError,
    );
    expect(await db.refundRequest.findUniqueOrThrow({ where: { id: request.id } })).toMatchObject({
      status: "PENDING",
    });
    expect(await db.payment.findUniqueOrThrow({ where: { id: p.id } })).toMatchObject({ status: "SUCCEEDED" });
    expect(await db.refundRequest.count({ where: { paymentId: p.id } })).toBe(1);
    expect(enqueued).toEqual([]);
    await events.close();
  });
});

describe("rule evaluation against the database", () => {
  it("queue backlog: an alert per region above 10 queued, cleared with a note when it drops", async () => {
    const busy = await region("busytown");
    const quiet = await region("quietville");
    const queued = async (regionId: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const b = await business(regionId, `Queued ${regionId.slice(-4)} ${i}`);
        await db.placement.create({ data: { businessId: b.id, regionId, status: "QUEUED", purchasedAt: new Date() } });
      }
    };
    await queued(busy.id, 11);
    await queued(quiet.id, 10);
    await runHealthChecks(deps);
    const busyAlert = await db.alert.findUniqueOrThrow({ where: { fingerprint: `queue.backlog:${busy.id}` } });
    expect(busyAlert).toMatchObject({ severity: "YELLOW", status: "FIRING" });
    expect(await db.alert.findUnique({ where: { fingerprint: `queue.backlog:${quiet.id}` } })).toBeNull();

    const first = await db.placement.findFirstOrThrow({ where: { regionId: busy.id, status: "QUEUED" } });
    await db.placement.update({ where: { id: first.id }, data: { status: "ACTIVE" } });
    await runHealthChecks(deps);
    expect(await db.alert.findUniqueOrThrow({ where: { id: busyAlert.id } })).toMatchObject({
      status: "RESOLVED",
      resolutionNote: expect.stringMatching(/back within its threshold/) as string,
    });
  });

  it("webhook failures: red above 3 in the hour, not at 3; reopens when failures return", async () => {
    const failed = async (count: number, receivedAt = new Date()) => {
      for (let i = 0; i < count; i++)
        await db.stripeWebhookEvent.create({
          data: {
            id: `evt_${Math.random().toString(36).slice(2)}`,
            type: "charge.succeeded",
            payload: {},
            status: "FAILED",
            receivedAt,
          },
        });
    };
    await failed(3);
    await failed(5, new Date(Date.now() - 61 * MINUTE)); // outside the window
    let run = await runHealthChecks(deps);
    expect(run.conditions.map((c) => c.fingerprint)).not.toContain("stripe.webhook_failures");
    await failed(1);
    run = await runHealthChecks(deps);
    expect(await db.alert.findUniqueOrThrow({ where: { fingerprint: "stripe.webhook_failures" } })).toMatchObject({
      severity: "RED",
      status: "FIRING",
    });
    expect(run.results.find((result) => result.check === "webhooks")).toMatchObject({ value: 4, status: "RED" });
    await db.stripeWebhookEvent.updateMany({ where: { status: "FAILED" }, data: { status: "PROCESSED" } });
    await runHealthChecks(deps);
    expect((await db.alert.findUniqueOrThrow({ where: { fingerprint: "stripe.webhook_failures" } })).status).toBe(
      "RESOLVED",
    );
    await failed(4);
    await runHealthChecks(deps);
    const reopened = await db.alert.findUniqueOrThrow({ where: { fingerprint: "stripe.webhook_failures" } });
    expect(reopened.status).toBe("FIRING");
    await db.stripeWebhookEvent.updateMany({ where: { status: "FAILED" }, data: { status: "PROCESSED" } });
  });

  it("refund rate red above 15 % over 7 days, with repeat refunders, regions and business age in the detail", async () => {
    const melbourne = await region("melbourne");
    const repeat = await business(melbourne.id, "Trainer A");
    const fresh = await business(melbourne.id, "Fresh Trainer", new Date(Date.now() - 2 * 24 * 60 * MINUTE));
    for (let i = 0; i < 2; i++) await payment(repeat.id, "REFUNDED");
    await payment(fresh.id, "REFUNDED");
    for (let i = 0; i < 7; i++) await payment(fresh.id, "SUCCEEDED");
    await payment(repeat.id, "REFUNDED", new Date(Date.now() - 8 * 24 * 60 * MINUTE)); // outside the window
    await runHealthChecks(deps); // 3 of 10 = 30 %
    const alert = await db.alert.findUniqueOrThrow({ where: { fingerprint: "refunds.rate_high" } });
    expect(alert.severity).toBe("RED");
    expect(alert.detail).toContain("3 of 10 purchases refunded");
    expect(alert.detail).toContain("Trainer A ×2");
    expect(alert.detail).toContain("Melbourne 3");
    expect(alert.detail).toMatch(/1 new \(0–7 days\), 0 8–30 days, 2 older/);

    // The alert names the repeat refunders by id, so its page offers to flag each one.
    expect(alert.labels).toEqual({ repeatRefunders: `${repeat.id}:2` });
    const id = Buffer.from(`Alert:${alert.id}`).toString("base64");
    const read = () =>
      api.graphql<{
        alert: { repeatRefunders: { refunds: number; business: { id: string; name: string; status: string } }[] };
      }>(
        `query ($id: ID!) { alert(id: $id) { repeatRefunders { refunds business { id name status } } } }`,
        { id },
        {
          cookie: operatorCookie,
        },
      );
    const before = await read();
    expect(before.errors).toBeUndefined();
    expect(before.data?.alert.repeatRefunders).toEqual([
      {
        refunds: 2,
        business: { id: Buffer.from(`Business:${repeat.id}`).toString("base64"), name: "Trainer A", status: "ACTIVE" },
      },
    ]);
    const businessId = before.data?.alert.repeatRefunders[0]?.business.id ?? "";
    const flagged = await api.graphql<{ flagBusiness: { __typename: string } }>(
      `mutation ($id: ID!, $note: String!) { flagBusiness(id: $id, note: $note) { __typename } }`,
      { id: businessId, note: "Two refunds in a week (refund-rate alert)" },
      { cookie: operatorCookie },
    );
    expect(flagged.data?.flagBusiness.__typename).toBe("MutationFlagBusinessSuccess");
    expect((await read()).data?.alert.repeatRefunders[0]?.business.status).toBe("FLAGGED_FOR_REVIEW");

    // The next evaluation keeps the list current: a third refund, and a second repeat refunder.
    await payment(repeat.id, "REFUNDED");
    for (let i = 0; i < 2; i++) await payment(fresh.id, "REFUNDED");
    await runHealthChecks(deps);
    const { labels } = await db.alert.findUniqueOrThrow({ where: { fingerprint: "refunds.rate_high" } });
    expect(repeatRefundersOf(labels)).toHaveLength(2);
    expect(repeatRefundersOf(labels)).toEqual(
      expect.arrayContaining([
        { businessId: repeat.id, refunds: 3 },
        { businessId: fresh.id, refunds: 3 },
      ]),
    );
  });
});

describe("database p95 from the application's own queries", () => {
  it("a process whose real queries are slow turns the check red; once it is gone the alert clears", async () => {
    // A process like the API and the worker: a Prisma client whose every query is timed.
    const window = new QueryLatencyWindow();
    const slowClient = createPrismaClient(api.database.url, 2, { onQuery: window.record });
    await db.alertRuleSetting.create({
      data: { ruleKey: "database.query_p95", enabled: true, thresholds: { maxP95Ms: 200, minQueries: 5 } },
    });
    try {
      for (let i = 0; i < 6; i++) await slowClient.$queryRaw`SELECT pg_sleep(0.25)::text`;
      expect(window.summary().requests).toBe(6);
      await publishQueryLatencyOnce(redis, api.env.REDIS_PREFIX, "slow-test-process", window.summary());
      // Earlier runs at simulated later times dropped the API's entry as stale; it republishes every 5 s.
      const windows = `${api.env.REDIS_PREFIX}:db-window`;
      for (let waited = 0; waited < 7_000; waited += 250) {
        if (Object.keys(await redis.hgetall(windows)).some((id) => id.startsWith("api:"))) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      const slow = await runHealthChecks(deps);
      const result = slow.results.find((entry) => entry.check === "postgres_query_p95");
      expect(result).toMatchObject({ ok: true, status: "RED" });
      expect(result?.value).toBeGreaterThanOrEqual(250);
      // The API under test reports its own window too: both processes are counted.
      expect(result?.detail).toMatch(/from [2-9] process\(es\)/);
      const alert = await db.alert.findUniqueOrThrow({ where: { fingerprint: "database.query_p95" } });
      expect(alert).toMatchObject({ status: "FIRING", severity: "RED" });

      await redis.hdel(`${api.env.REDIS_PREFIX}:db-window`, "slow-test-process");
      await runHealthChecks(deps);
      expect((await db.alert.findUniqueOrThrow({ where: { fingerprint: "database.query_p95" } })).status).toBe(
        "RESOLVED",
      );
    } finally {
      await slowClient.$disconnect();
      await db.alertRuleSetting.delete({ where: { ruleKey: "database.query_p95" } });
    }
  });
});

describe("API: health status, rules and flags", () => {
  it("healthStatus gives each check's latest result and the overall RAG; healthHistory a series", async () => {
    await runHealthChecks(deps);
    const result = await api.graphql<{
      healthStatus: { overall: string; checks: { check: string; latest: { ok: boolean; status: string } | null }[] };
      healthHistory: { at: string; value: number | null }[];
    }>(
      `{ healthStatus { overall checks { check latest { ok status } } }
         healthHistory(check: postgres, window: LAST_HOUR) { at value } }`,
      {},
      { cookie: viewerCookie },
    );
    const checks = result.data!.healthStatus.checks;
    expect(checks.map((check) => check.check)).toEqual([
      "postgres",
      "redis",
      "ai_provider",
      "stripe",
      "webhooks",
      "jobs",
      "api_error_rate",
      "api_latency_p95",
      "queue_backlog",
      "refund_rate",
      "postgres_query_p95",
    ]);
    expect(checks.find((check) => check.check === "postgres")?.latest).toMatchObject({ ok: true, status: "GREEN" });
    expect(checks.find((check) => check.check === "stripe")?.latest).toMatchObject({ ok: true });
    expect(result.data!.healthHistory.length).toBeGreaterThan(3);
  });

  it("latestHealth is stale and at least yellow when no run happened for over 5 minutes", async () => {
    const latest = (await latestHealth(db)).checkedAt!;
    expect(await latestHealth(db, new Date(latest.getTime() + 4 * MINUTE))).toMatchObject({ stale: false });
    const later = await latestHealth(db, new Date(latest.getTime() + 6 * MINUTE));
    expect(later.stale).toBe(true);
    expect(["YELLOW", "RED"]).toContain(later.overall);
  });

  it("latestHealth takes each check's newest result, whatever order the rows were written in", async () => {
    const before = await latestHealth(db);
    // Later than anything the other tests wrote (some run the checks at simulated future times).
    const newest = new Date(Math.max(Date.now(), before.checkedAt?.getTime() ?? 0) + 10 * MINUTE);
    // Written newest first, so a query that took the first row it met would answer the older one.
    await db.healthCheckResult.create({
      data: { check: "redis", ok: false, status: "RED", detail: "newest: refused", checkedAt: newest },
    });
    await db.healthCheckResult.create({
      data: {
        check: "redis",
        ok: true,
        status: "GREEN",
        detail: "older",
        checkedAt: new Date(newest.getTime() - MINUTE),
      },
    });
    const after = await latestHealth(db, newest);
    expect(after.checks.find((check) => check.check === "redis")?.latest).toMatchObject({
      ok: false,
      detail: "newest: refused",
    });
    expect(after.overall).toBe("RED");
    // Every other check still answers its own latest row.
    for (const { check, latest } of before.checks.filter((entry) => entry.check !== "redis"))
      expect(after.checks.find((entry) => entry.check === check)?.latest?.id).toBe(latest?.id);
    await db.healthCheckResult.deleteMany({ where: { checkedAt: { gte: new Date(newest.getTime() - MINUTE) } } });
  });

  it("updateAlertRule: ADMIN only; bad values, unknown thresholds and unknown rules are refused and change nothing", async () => {
    const update = (ruleKey: string, thresholds: { name: string; value: number }[], cookie = adminCookie) =>
      api.graphql<{
        updateAlertRule: {
          __typename: string;
          message?: string;
          data?: { thresholds: { name: string; value: number }[] };
        };
      }>(
        `mutation ($ruleKey: String!, $thresholds: [RuleThresholdInput!]) {
          updateAlertRule(ruleKey: $ruleKey, thresholds: $thresholds) {
            __typename ... on Error { message } ... on MutationUpdateAlertRuleSuccess { data { thresholds { name value } } } } }`,
        { ruleKey, thresholds },
        { cookie },
      );
    const auditBefore = await db.auditEvent.count({ where: { action: "alertRule.update" } });
    expect((await update("queue.backlog", [{ name: "maxQueued", value: -1 }])).data?.updateAlertRule.__typename).toBe(
      "InvalidInputError",
    );
    expect((await update("queue.backlog", [{ name: "maxQueued", value: 2.5 }])).data?.updateAlertRule.__typename).toBe(
      "InvalidInputError",
    );
    const unknownThreshold = await update("queue.backlog", [{ name: "maxQueud", value: 5 }]);
    expect(unknownThreshold.data?.updateAlertRule).toMatchObject({ __typename: "InvalidInputError" });
    expect(unknownThreshold.data?.updateAlertRule.message).toMatch(/no threshold maxQueud/);
    expect((await update("no.such_rule", [])).data?.updateAlertRule.__typename).toBe("NotFoundError");
    expect(
      (await update("refunds.rate_high", [{ name: "maxRatePercent", value: 101 }])).data?.updateAlertRule.__typename,
    ).toBe("InvalidInputError");
    const asOperator = await update("queue.backlog", [{ name: "maxQueued", value: 5 }], operatorCookie);
    expect(asOperator.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await db.alertRuleSetting.count()).toBe(0);
    expect(await db.auditEvent.count({ where: { action: "alertRule.update" } })).toBe(auditBefore);

    const good = await update("queue.backlog", [{ name: "maxQueued", value: 3 }]);
    expect(good.data?.updateAlertRule.data?.thresholds).toEqual([{ name: "maxQueued", value: 3 }]);
    // The evaluation obeys the new threshold: 4 queued in one region now fires.
    const small = await region("smalltown");
    for (let i = 0; i < 4; i++) {
      const b = await business(small.id, `Small ${i}`);
      await db.placement.create({
        data: { businessId: b.id, regionId: small.id, status: "QUEUED", purchasedAt: new Date() },
      });
    }
    await runHealthChecks(deps);
    expect(await db.alert.findUnique({ where: { fingerprint: `queue.backlog:${small.id}` } })).not.toBeNull();
  });

  it("setFeatureFlag: unknown keys, values a flag does not take and a missing reason are refused; a viewer cannot", async () => {
    const set = (key: string, value: string, reason: string, cookie = operatorCookie) =>
      api.graphql<{ setFeatureFlag: { __typename: string; message?: string } }>(
        `mutation ($key: String!, $value: String!, $reason: String!) {
          setFeatureFlag(key: $key, value: $value, reason: $reason) { __typename ... on Error { message } } }`,
        { key, value, reason },
        { cookie },
      );
    const changesBefore = await db.featureFlagChange.count();
    expect((await set("NO_SUCH_FLAG", "on", "testing")).data?.setFeatureFlag).toMatchObject({
      __typename: "InvalidInputError",
      message: expect.stringMatching(/Unknown flag/) as string,
    });
    expect((await set("AI_MODE", "magic", "testing")).data?.setFeatureFlag).toMatchObject({
      __typename: "InvalidInputError",
      message: expect.stringMatching(/takes 'provider' or 'deterministic'/) as string,
    });
    expect((await set("AI_MODE", "deterministic", " ")).data?.setFeatureFlag.__typename).toBe("InvalidInputError");
    expect((await set("AI_MODE", "deterministic", "viewer tries", viewerCookie)).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    expect(await db.featureFlagChange.count()).toBe(changesBefore);

    expect(
      (await set("AI_FAILOVER", "alert-only", "we switch by hand this week")).data?.setFeatureFlag.__typename,
    ).toBe("MutationSetFeatureFlagSuccess");
    const listed = await api.graphql<{
      featureFlags: {
        key: string;
        value: string;
        history: { toValue: string; reason: string; actorLabel: string }[];
      }[];
    }>(`{ featureFlags { key value history { toValue reason actorLabel } } }`, {}, { cookie: viewerCookie });
    expect(listed.data?.featureFlags.find((flag) => flag.key === "AI_FAILOVER")).toEqual({
      key: "AI_FAILOVER",
      value: "alert-only",
      history: [{ toValue: "alert-only", reason: "we switch by hand this week", actorLabel: "olive@test.example" }],
    });
  });

  it("GET /metrics speaks Prometheus text with the API's requests and latency", async () => {
    const admin = await db.operator.findUniqueOrThrow({ where: { email: "ada@test.example" } });
    const scraper = await createApiToken(
      { db },
      { kind: "OPERATOR", ...admin },
      { name: "prometheus", scopes: ["metrics:read"] },
    );
    const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${scraper.token}` } });
    expect(response.headers.get("content-type")).toMatch(/text\/plain/);
    const body = await response.text();
    expect(body).toMatch(/steward_api_requests_total\{outcome="ok"\} \d+/);
    expect(body).toContain("steward_api_request_duration_seconds_bucket");
    expect(body).toContain("steward_queue_jobs");
  });
});
