// The operating signals beside the health rules (core/src/signals.ts): webhook success rate over
// 5 minutes, Redis as a rule, AI spend against the monthly budget, login success rate. Each
// raises its alert at its threshold (never below it) and clears it when back.
import { loadEnv } from "@steward/core/env";
import { checkOperatingSignals } from "@steward/core/signals";
import type { Db } from "@steward/db/client";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { quietDeps } from "../support/deps.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());
afterEach(async () => {
  const { db } = database;
  await db.stripeWebhookEvent.deleteMany();
  await db.loginAttempt.deleteMany();
  await db.reviewScore.deleteMany();
});

// $10 budget, 1 ¢ a provider call: 800 calls is 80 %.
const env = loadEnv({
  NODE_ENV: "test",
  AI_COST_PER_CALL_CENTS: "1",
  AI_MONTHLY_BUDGET_CENTS: "1000",
  MARKETPLACE_TIME_ZONE: "UTC",
});
const redisUp = { ok: true, detail: "PING in 1 ms" };
const now = () => new Date();

const status = async (db: Db, fingerprint: string) =>
  (await db.alert.findUnique({ where: { fingerprint }, select: { status: true, severity: true } })) ?? null;

async function webhooks(db: Db, total: number, failed: number) {
  await db.stripeWebhookEvent.createMany({
    data: Array.from({ length: total }, (_, index) => ({
      id: `evt_signal_${Date.now()}_${index}`,
      type: "charge.succeeded",
      payload: {},
      status: index < failed ? ("FAILED" as const) : ("PROCESSED" as const),
      receivedAt: new Date(Date.now() - 60_000),
    })),
  });
}

describe("operating signals", () => {
  it("webhook success rate: 5 % failed is fine, more is red, and it clears", async () => {
    const { db } = database;
    await webhooks(db, 20, 1); // exactly 5 %
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect(await status(db, "stripe.webhook_success_rate")).toBeNull();
    await webhooks(db, 1, 1); // 2 of 21
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect(await status(db, "stripe.webhook_success_rate")).toEqual({ status: "FIRING", severity: "RED" });
    await db.stripeWebhookEvent.updateMany({ data: { status: "PROCESSED" } });
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect((await status(db, "stripe.webhook_success_rate"))?.status).toBe("RESOLVED");
  });

  it("Redis: red while its probe fails", async () => {
    const { db } = database;
    await checkOperatingSignals(quietDeps(db), env, { ok: false, detail: "connect ECONNREFUSED" }, now());
    expect(await status(db, "redis.down")).toEqual({ status: "FIRING", severity: "RED" });
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect((await status(db, "redis.down"))?.status).toBe("RESOLVED");
  });

  it("AI spend: yellow from 80 % of the monthly budget, red from 100 %", async () => {
    const { db } = database;
    const region = await db.region.create({ data: { slug: "ai-spend", name: "AI spend", featuredSlots: 1 } });
    const business = await db.business.create({ data: { regionId: region.id, name: "Spendy", email: "s@t.example" } });
    const review = await db.review.create({
      data: { businessId: business.id, rating: 5, body: "good dog", source: "seed" },
    });
    const score = (count: number) =>
      db.reviewScore.createMany({
        data: Array.from({ length: count }, () => ({ reviewId: review.id, classifier: "provider", confidence: 0.9 })),
      });
    await score(799);
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect(await status(db, "ai.monthly_budget")).toBeNull();
    await score(1);
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect(await status(db, "ai.monthly_budget")).toEqual({ status: "FIRING", severity: "YELLOW" });
    await score(200);
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect(await status(db, "ai.monthly_budget")).toEqual({ status: "FIRING", severity: "RED" });
  });

  it("login success rate: red under 50 % over 15 minutes, with enough attempts to mean something", async () => {
    const { db } = database;
    const attempts = (count: number, succeeded: boolean) =>
      db.loginAttempt.createMany({
        data: Array.from({ length: count }, () => ({ email: "x@test.example", ip: "10.0.0.9", succeeded })),
      });
    await attempts(6, false);
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect(await status(db, "auth.login_success_rate")).toBeNull(); // 6 attempts: too few to judge
    await attempts(5, true); // 5 of 11 = 45 %
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect(await status(db, "auth.login_success_rate")).toEqual({ status: "FIRING", severity: "RED" });
    await attempts(1, true); // 6 of 12 = 50 %
    await checkOperatingSignals(quietDeps(db), env, redisUp, now());
    expect((await status(db, "auth.login_success_rate"))?.status).toBe("RESOLVED");
  });
});
