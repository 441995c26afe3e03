// Data retention: the `data-retention` job removes what is past each table's retention, in
// batches, keeps everything newer (and everything still live: a running job, an open session, an
// undelivered message), clears old webhook payloads but keeps their ids, and never touches
// payments, refunds, placements or the audit log. Its run summary says what it removed.
import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import { applyRetention, retentionSettings } from "@steward/core/retention";
import type { Db } from "@steward/db/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataRetentionJob } from "../../worker/src/jobs/dataRetention.ts";
import { dataRetention } from "@steward/jobs/contracts";
import type { JobContext } from "../../worker/src/jobs/definition.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createOperator } from "../support/fixtures.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const DAY = 86_400_000;
const now = new Date("2026-12-01T03:15:00Z");
const daysAgo = (days: number) => new Date(now.getTime() - days * DAY);
const settings = {
  jobRuns: 90,
  sessions: 30,
  loginAttempts: 90,
  outboxMessages: 90,
  searchEvents: 400,
  healthResults: 30,
  webhookPayloads: 90,
};

async function seed(db: Db) {
  const operator = await createOperator(db, "ADMIN");
  const jobRun = (index: number, startedAt: Date, status: "SUCCEEDED" | "RUNNING" = "SUCCEEDED") => ({
    jobName: "heartbeat",
    queueJobId: `q-${index}`,
    trigger: "SCHEDULE" as const,
    attempt: 1,
    status,
    startedAt,
    finishedAt: status === "RUNNING" ? null : startedAt,
  });
  // 25 old runs (several batches of 7), one old run still RUNNING, 3 recent.
  await db.jobRun.createMany({
    data: [
      ...Array.from({ length: 25 }, (_, index) => jobRun(index, daysAgo(100 + index))),
      jobRun(100, daysAgo(120), "RUNNING"),
      ...Array.from({ length: 3 }, (_, index) => jobRun(200 + index, daysAgo(index))),
    ],
  });
  await db.session.createMany({
    data: [
      { tokenHash: "ended-long-ago", operatorId: operator.id, createdAt: daysAgo(60), expiresAt: daysAgo(59) },
      {
        tokenHash: "revoked-long-ago",
        operatorId: operator.id,
        createdAt: daysAgo(45),
        expiresAt: daysAgo(-300),
        revokedAt: daysAgo(40),
      },
      { tokenHash: "ended-yesterday", operatorId: operator.id, createdAt: daysAgo(2), expiresAt: daysAgo(1) },
      { tokenHash: "live", operatorId: operator.id, createdAt: daysAgo(0.1), expiresAt: daysAgo(-0.5) },
    ],
  });
  await db.loginAttempt.createMany({
    data: [
      { email: "a@test.example", ip: "10.0.0.1", succeeded: false, createdAt: daysAgo(91) },
      { email: "a@test.example", ip: "10.0.0.1", succeeded: true, createdAt: daysAgo(89) },
    ],
  });
  const message = (key: string, status: "SENT" | "DEAD" | "PENDING" | "FAILED", createdAt: Date) => ({
    kind: "email.test",
    dedupKey: key,
    payload: {},
    status,
    createdAt,
  });
  await db.outboxMessage.createMany({
    data: [
      message("old-sent", "SENT", daysAgo(100)),
      message("old-dead", "DEAD", daysAgo(100)),
      message("old-pending", "PENDING", daysAgo(100)),
      message("old-failed", "FAILED", daysAgo(100)),
      message("new-sent", "SENT", daysAgo(10)),
    ],
  });
  const oldSent = await db.outboxMessage.findUniqueOrThrow({ where: { dedupKey: "old-sent" } });
  await db.deliveryAttempt.create({ data: { outboxId: oldSent.id, attempt: 1, ok: true } });
  await db.searchEvent.createMany({
    data: [
      { query: "puppy school", resultCount: 3, source: "web", occurredAt: daysAgo(401) },
      { query: "agility", resultCount: 1, source: "web", occurredAt: daysAgo(10) },
    ],
  });
  await db.healthCheckResult.createMany({
    data: [
      { check: "postgres", ok: true, checkedAt: daysAgo(31) },
      { check: "postgres", ok: true, checkedAt: daysAgo(1) },
    ],
  });
  await db.stripeWebhookEvent.createMany({
    data: [
      {
        id: "evt_old_processed",
        type: "charge.succeeded",
        payload: { big: "x".repeat(100) },
        status: "PROCESSED",
        receivedAt: daysAgo(91),
      },
      {
        id: "evt_old_failed",
        type: "charge.succeeded",
        payload: { keep: true },
        status: "FAILED",
        receivedAt: daysAgo(91),
      },
      { id: "evt_new", type: "charge.succeeded", payload: { keep: true }, status: "PROCESSED", receivedAt: daysAgo(1) },
    ],
  });
  // Money and the audit log, all far older than any retention.
  const region = await db.region.create({ data: { slug: "old-town", name: "Old Town", featuredSlots: 3 } });
  const business = await db.business.create({
    data: { regionId: region.id, name: "Old Dog School", email: "old@trainers.example", createdAt: daysAgo(900) },
  });
  const payment = await db.payment.create({
    data: {
      stripeChargeId: "ch_old",
      businessId: business.id,
      amountCents: 2200,
      currency: "aud",
      status: "REFUNDED",
      purchasedAt: daysAgo(800),
      createdAt: daysAgo(800),
    },
  });
  await db.placement.create({
    data: {
      businessId: business.id,
      regionId: region.id,
      paymentId: payment.id,
      status: "REFUNDED",
      purchasedAt: daysAgo(800),
      createdAt: daysAgo(800),
    },
  });
  await db.refundRequest.create({
    data: {
      paymentId: payment.id,
      businessId: business.id,
      reason: "closed",
      requestedBy: `OPERATOR:${operator.id}`,
      status: "APPROVED",
      idempotencyKey: "refund-old",
      createdAt: daysAgo(790),
    },
  });
  await db.auditEvent.create({
    data: { actorKind: "SYSTEM", actorLabel: "system:test", action: "payment.recorded", createdAt: daysAgo(800) },
  });
}

const moneyAndAudit = async (db: Db) => ({
  payments: await db.payment.count(),
  placements: await db.placement.count(),
  refunds: await db.refundRequest.count(),
  oldAudit: await db.auditEvent.count({ where: { createdAt: { lt: daysAgo(100) } } }),
});

describe("data retention", () => {
  it("removes only what is past its table's retention, in batches, and never money or the audit log", async () => {
    const { db } = database;
    await seed(db);
    const before = await moneyAndAudit(db);

    const results = await applyRetention(db, settings, { batchSize: 7 }, now);
    const byTarget = Object.fromEntries(results.map((result) => [result.target, result]));
    expect(byTarget.jobRuns).toMatchObject({ removed: 25, batches: 4 });
    expect(await db.jobRun.count()).toBe(4); // the RUNNING one and the 3 recent
    expect(await db.jobRun.count({ where: { status: "RUNNING" } })).toBe(1);

    expect(byTarget.sessions?.removed).toBe(2);
    expect((await db.session.findMany({ orderBy: { tokenHash: "asc" } })).map((s) => s.tokenHash)).toEqual([
      "ended-yesterday",
      "live",
    ]);
    expect(byTarget.loginAttempts?.removed).toBe(1);
    expect(await db.loginAttempt.count()).toBe(1);

    expect(byTarget.outboxMessages?.removed).toBe(2);
    expect((await db.outboxMessage.findMany({ orderBy: { dedupKey: "asc" } })).map((m) => m.dedupKey)).toEqual([
      "new-sent",
      "old-failed",
      "old-pending",
    ]);
    expect(await db.deliveryAttempt.count()).toBe(0); // went with its message

    expect(byTarget.searchEvents?.removed).toBe(1);
    expect(byTarget.healthResults?.removed).toBe(1);
    expect(await db.healthCheckResult.count()).toBe(1);

    // Old processed webhook: payload cleared, id kept (how duplicates are still recognised).
    expect(byTarget.webhookPayloads).toMatchObject({ removed: 1, removes: "payloads" });
    const events = await db.stripeWebhookEvent.findMany({ orderBy: { id: "asc" } });
    expect(events.map((event) => [event.id, event.payload])).toEqual([
      ["evt_new", { keep: true }],
      ["evt_old_failed", { keep: true }],
      ["evt_old_processed", {}],
    ]);

    expect(await moneyAndAudit(db)).toEqual(before);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { action: "retention.purge" } });
    expect(audit.after).toMatchObject({ jobRuns: 25, sessions: 2, outboxMessages: 2, webhookPayloads: 1 });

    // A second run finds nothing left.
    const again = await applyRetention(db, settings, { batchSize: 7 }, now);
    expect(again.reduce((sum, result) => sum + result.removed, 0)).toBe(0);
  });

  it("stops at maxBatches and says more is left; 0 days keeps a table forever", async () => {
    const fresh = await createTestDatabase();
    try {
      await seed(fresh.db);
      const [jobRuns] = await applyRetention(fresh.db, { ...settings }, { batchSize: 10, maxBatches: 2 }, now);
      expect(jobRuns).toMatchObject({ target: "jobRuns", removed: 20, batches: 2, more: true });
      const forever = await applyRetention(fresh.db, { ...settings, jobRuns: 0 }, { batchSize: 10 }, now);
      expect(forever[0]).toMatchObject({ removed: 0, batches: 0 });
      expect(await fresh.db.jobRun.count()).toBe(9);
    } finally {
      await fresh.drop();
    }
  });

  it("the scheduled job reads its settings from the environment and reports what it removed", async () => {
    const fresh = await createTestDatabase();
    try {
      await seed(fresh.db);
      const env = loadEnv({
        NODE_ENV: "test",
        DATABASE_URL: fresh.url,
        RETENTION_JOB_RUNS_DAYS: "110",
        RETENTION_BATCH_SIZE: "100",
      });
      expect(retentionSettings(env).jobRuns).toBe(110);
      const deps = { db: fresh.db, env, logger: createLogger("test", "silent") };
      const outcome = await dataRetentionJob.handler({ deps } as unknown as JobContext, {});
      // Job runs older than 110 days (15 of the 25), against the real clock.
      expect(outcome.summary).toMatch(/JobRun: \d+ removed \(> 110 d\)/);
      expect(outcome.summary).toMatch(/StripeWebhookEvent: 1 payloads cleared/);
      expect(outcome.changes).toEqual(
        expect.arrayContaining([expect.objectContaining({ table: "Session", removed: 2, removes: "rows" })]),
      );
      expect(dataRetention.schedule?.(loadEnv({})).everyMinutes).toBe(1440);
    } finally {
      await fresh.drop();
    }
  });
});
