// Sweeps that rebuild work from PostgreSQL when Redis lost the job: a Stripe event stored by the
// real webhook endpoint whose stripe-event job is gone (queue obliterated) is processed exactly
// once by the stripe-event-sweep job on a real worker; a job still queued is not doubled; a pending
// review never scored is scored once by review-scoring-sweep; a reconciliation run whose job was
// lost is resumed by reconciliation-sweep and completes once, while a live one is never touched.
import { prismaSqlReader } from "@steward/core/deps";
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import type { EventBus } from "@steward/core/ports/events";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { createLogger } from "@steward/core/logger";
import { receiveStripeWebhook, sweepPendingStripeEvents } from "@steward/core/payments";
import { processStripeEvent } from "@steward/core/stripeEvents";
import {
  createReconciliationRun,
  executeReconciliationRun,
  sweepStalledReconciliationRuns,
} from "@steward/core/reconciliation/runs";
import { reconciliationJobId } from "@steward/jobs/contracts";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import { recordReviewScore, sweepUnscoredReviews } from "@steward/core/reviews";
import { type BullJobQueues, connectionFor, createBullJobQueues } from "@steward/jobs/bullmq";
import { Queue, Worker } from "bullmq";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobCatalog } from "../../worker/src/registry.ts";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import {
  createBusiness,
  createRegion,
  type PaymentsStack,
  startPaymentsStack,
  WEBHOOK_SECRET,
} from "./payments-stack.ts";
import { quietDeps } from "../support/deps.ts";

let stack: PaymentsStack;
let queue: BullJobQueues;
let worker: StewardWorker | null = null;
let regionId: string;
const MINUTES_AGO = (minutes: number) => new Date(Date.now() - minutes * 60_000);

beforeAll(async () => {
  stack = await startPaymentsStack();
  queue = createBullJobQueues({ redisUrl: stack.api.env.REDIS_URL, prefix: stack.api.env.REDIS_PREFIX });
  regionId = (await createRegion(stack.db, 5)).id;
});
afterAll(async () => {
  await worker?.stop();
  await queue?.close();
  await stack?.stop();
});

/**
 * A placement charge at the sandbox and its signed event, delivered to the real webhook endpoint
 * (stored and queued), or only stored as the endpoint stores it (so a running worker cannot take
 * it before the test decides what Redis holds).
 */
async function receivedEvent(via: "http" | "store"): Promise<{ eventId: string; chargeId: string }> {
  const business = await createBusiness(stack.db, regionId);
  const charge = stack.stripeSandbox.createCharge({
    amount: 2200,
    currency: "aud",
    metadata: { business_id: business.id },
  });
  const event = stack.stripeSandbox.state.events.values().find((e) => e.data.object.id === charge.id);
  if (!event) throw new Error("the sandbox recorded no event for the charge");
  const payload = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  if (via === "store") {
    const receipt = await receiveStripeWebhook(
      { db: stack.db, sql: prismaSqlReader(stack.db) },
      createStripeGateway(stack.api.env),
      {
        rawBody: Buffer.from(payload),
        signature,
        secret: WEBHOOK_SECRET,
      },
    );
    expect(receipt.kind).toBe("stored");
    return { eventId: event.id, chargeId: charge.id };
  }
  const response = await fetch(`${stack.api.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: payload,
  });
  expect(response.status).toBe(200);
  return { eventId: event.id, chargeId: charge.id };
}

/** Runs one job by name on the worker and waits for it to complete. */
async function runJob(name: string): Promise<void> {
  const job = await queue.add(name, { trigger: "MANUAL" });
  await expect.poll(() => queue.getJobState(job.id ?? ""), { timeout: 20_000, interval: 100 }).toBe("completed");
}

async function effectsOf(eventId: string, chargeId: string) {
  const payments = await stack.db.payment.findMany({
    where: { stripeChargeId: chargeId },
    include: { placement: true },
  });
  return {
    event: await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: eventId } }),
    payments: payments.length,
    placements: payments.filter((payment) => payment.placement).length,
    processedAudits: await stack.db.auditEvent.count({
      where: { action: "stripe.webhook_processed", targetId: eventId },
    }),
  };
}

describe("stripe events", () => {
  it("hands back only unprocessed events past the grace period, and FAILED ones with attempts left", async () => {
    const now = new Date();
    const at = MINUTES_AGO(5);
    const rows = [
      { id: `evt_sw_received_${Date.now()}`, status: "RECEIVED" as const, attempts: 0, receivedAt: at },
      { id: `evt_sw_running_${Date.now()}`, status: "RECEIVED" as const, attempts: 7, receivedAt: at },
      { id: `evt_sw_retry_${Date.now()}`, status: "FAILED" as const, attempts: 2, receivedAt: at },
      { id: `evt_sw_dead_${Date.now()}`, status: "FAILED" as const, attempts: 5, receivedAt: at },
      { id: `evt_sw_done_${Date.now()}`, status: "PROCESSED" as const, attempts: 1, receivedAt: at },
      { id: `evt_sw_young_${Date.now()}`, status: "RECEIVED" as const, attempts: 0, receivedAt: now },
    ];
    await stack.db.stripeWebhookEvent.createMany({
      data: rows.map((row) => ({ ...row, type: "customer.created", objectId: null, payload: {} })),
    });
    const pages: string[][] = [];
    const swept = await sweepPendingStripeEvents(
      stack.db,
      (ids) => {
        pages.push(ids);
        return Promise.resolve();
      },
      {
        olderThanMs: 60_000,
        maxAttempts: 5,
        now,
        pageSize: 2,
      },
    );
    const ours = new Set(rows.map((row) => row.id));
    const handed = pages.flat().filter((id) => ours.has(id));
    expect(handed.sort()).toEqual([rows[0]!.id, rows[1]!.id, rows[2]!.id].sort());
    expect(swept).toBe(pages.flat().length);
    // Pages of two, walked by (receivedAt, id): every row once.
    expect(new Set(pages.flat()).size).toBe(pages.flat().length);
    await stack.db.stripeWebhookEvent.deleteMany({ where: { id: { in: [...ours] } } });
  });

  it("processes an event whose job Redis lost exactly once, and a second sweep changes nothing", async () => {
    const { eventId, chargeId } = await receivedEvent("http");
    expect(await queue.getJobState(`stripe-event-${eventId}`)).toBe("waiting");
    // Redis loses the job; PostgreSQL still says RECEIVED (backdated past the sweep's grace).
    await queue.obliterate();
    await stack.db.stripeWebhookEvent.update({ where: { id: eventId }, data: { receivedAt: MINUTES_AGO(5) } });
    expect(await queue.getJobState(`stripe-event-${eventId}`)).toBe("unknown");

    worker = buildWorker(stack.api.env, createLogger("sweep-test", "silent"), jobCatalog(stack.api.env));
    await worker.start();
    await runJob("stripe-event-sweep");
    await expect
      .poll(async () => (await effectsOf(eventId, chargeId)).event.status, { timeout: 20_000, interval: 100 })
      .toBe("PROCESSED");
    await runJob("stripe-event-sweep");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const effects = await effectsOf(eventId, chargeId);
    expect(effects).toMatchObject({ payments: 1, placements: 1, processedAudits: 1 });
    expect(effects.event.attempts).toBe(1);
    expect(await stack.db.jobRun.count({ where: { queueJobId: `stripe-event-${eventId}`, status: "SUCCEEDED" } })).toBe(
      1,
    );
  });

  it("does not duplicate a job still queued: the sweep leaves it delayed, it then runs once", async () => {
    if (!worker) throw new Error("the previous test starts the worker");
    const { eventId, chargeId } = await receivedEvent("store");
    // Its job is in backoff (delayed) when the sweep comes by.
    await queue.enqueue("stripe-event", { eventId }, { delayMs: 60_000 });
    await stack.db.stripeWebhookEvent.update({ where: { id: eventId }, data: { receivedAt: MINUTES_AGO(5) } });
    await runJob("stripe-event-sweep");
    expect(await queue.getJobState(`stripe-event-${eventId}`)).toBe("delayed");
    const queued = (await queue.queueOf("stripe-event").getJobs(["waiting", "delayed", "active", "completed"])).filter(
      (j) => j.name === "stripe-event" && (j.data.payload as { eventId?: string } | undefined)?.eventId === eventId,
    );
    expect(queued).toHaveLength(1);
    expect((await effectsOf(eventId, chargeId)).event).toMatchObject({ status: "RECEIVED", attempts: 0 });

    await (await queue.getJob(`stripe-event-${eventId}`))?.promote();
    await expect
      .poll(async () => (await effectsOf(eventId, chargeId)).event.status, { timeout: 20_000, interval: 100 })
      .toBe("PROCESSED");
    expect(await effectsOf(eventId, chargeId)).toMatchObject({ payments: 1, placements: 1, processedAudits: 1 });
  });

  it("processing the same event twice at once records one payment and one placement", async () => {
    const { eventId, chargeId } = await receivedEvent("store");
    const deps = { ...stack.api.deps, events: { publish: () => undefined } as unknown as EventBus };
    await Promise.all([processStripeEvent(deps, eventId), processStripeEvent(deps, eventId)]);
    await processStripeEvent(deps, eventId);
    const effects = await effectsOf(eventId, chargeId);
    expect(effects).toMatchObject({ payments: 1, placements: 1 });
    expect(effects.event.status).toBe("PROCESSED");
  });
});

describe("reviews", () => {
  it("scores a pending review whose job Redis lost once; scored and freshly submitted ones are left alone", async () => {
    if (!worker) throw new Error("the stripe tests start the worker");
    const business = await createBusiness(stack.db, regionId);
    const review = (body: string, extra: { createdAt: Date; aiConfidence?: number }) =>
      stack.db.review.create({ data: { businessId: business.id, rating: 4, body, source: "test", ...extra } });
    const lost = await review("Lovely trainer, my dog listens now.", { createdAt: MINUTES_AGO(10) });
    const imported = await review("Imported with a score.", { createdAt: MINUTES_AGO(10), aiConfidence: 0.5 });
    const fresh = await review("Just submitted; its job follows.", { createdAt: new Date() });

    const handed: string[] = [];
    await sweepUnscoredReviews(
      stack.db,
      (ids) => {
        handed.push(...ids);
        return Promise.resolve();
      },
      { olderThanMs: 2 * 60_000 },
    );
    expect(handed).toContain(lost.id);
    expect(handed).not.toContain(imported.id);
    expect(handed).not.toContain(fresh.id);

    await runJob("review-scoring-sweep");
    await expect
      .poll(async () => (await stack.db.review.findUniqueOrThrow({ where: { id: lost.id } })).aiScoredAt, {
        timeout: 20_000,
        interval: 100,
      })
      .not.toBeNull();
    await runJob("review-scoring-sweep");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await stack.db.reviewScore.count({ where: { reviewId: lost.id } })).toBe(1);
    expect(await stack.db.reviewScore.count({ where: { reviewId: imported.id } })).toBe(0);
  });

  it("a scoring job delivered twice (at least once) gives one score, also when both run at once", async () => {
    if (!worker) throw new Error("the stripe tests start the worker");
    const business = await createBusiness(stack.db, regionId);
    const review = await stack.db.review.create({
      data: { businessId: business.id, rating: 5, body: "Patient and kind with our rescue dog.", source: "test" },
    });
    // Two deliveries of one job (a redelivery after a stall gets the same payload, not the same id).
    const jobs = await Promise.all(
      ["a", "b"].map((copy) =>
        queue.add(
          "score-review",
          { trigger: "SCHEDULE", payload: { reviewId: review.id } },
          { jobId: `dup-${copy}-${review.id}` },
        ),
      ),
    );
    for (const job of jobs)
      await expect.poll(() => queue.getJobState(job.id ?? ""), { timeout: 20_000, interval: 100 }).toBe("completed");
    expect(await stack.db.reviewScore.count({ where: { reviewId: review.id } })).toBe(1);

    // Both recording at once: the guarded update lets exactly one through.
    const again = await stack.db.review.create({
      data: { businessId: business.id, rating: 4, body: "Great recall training.", source: "test" },
    });
    const events = createEventBus(stack.api.env.REDIS_URL, stack.api.env.REDIS_PREFIX);
    const outcomes = await Promise.all(
      [0.91, 0.42].map((confidence) =>
        recordReviewScore(
          { ...quietDeps(stack.db), events: events.bus },
          { reviewId: again.id, classifier: "deterministic", classification: { confidence, signals: [] } },
        ),
      ),
    ).finally(() => events.close());
    expect(outcomes.sort()).toEqual(["ALREADY_SCORED", "RECORDED"]);
    const scores = await stack.db.reviewScore.findMany({ where: { reviewId: again.id } });
    expect(scores).toHaveLength(1);
    expect((await stack.db.review.findUniqueOrThrow({ where: { id: again.id } })).aiConfidence).toBe(
      scores[0]?.confidence,
    );
  });
});

describe("reconciliation runs", () => {
  const DAY = 86_400_000;
  const system = { kind: "SYSTEM", label: "sweep-test" } as const;
  let bus: EventBusHandle;
  beforeAll(() => {
    bus = createEventBus(stack.api.env.REDIS_URL, stack.api.env.REDIS_PREFIX);
  });
  afterAll(async () => {
    await bus?.close();
  });
  const deps = () => ({
    ...quietDeps(stack.db),
    copyIn: pgCopyIn(stack.api.env.DATABASE_URL),
    events: bus.bus,
    stripe: createStripeGateway(stack.api.env),
  });

  /** A day of its own far in the past with one charge only Stripe has (one MISSING_IN_DB). */
  async function windowWithOneDiscrepancy(daysAgo: number): Promise<{ from: Date; to: Date }> {
    const business = await createBusiness(stack.db, regionId);
    const from = new Date(Date.now() - daysAgo * DAY);
    stack.stripeSandbox.seedCharges([
      {
        amount: 4100,
        currency: "aud",
        created: Math.floor(from.getTime() / 1000) + 3_600,
        metadata: { business_id: business.id },
      },
    ]);
    return { from, to: new Date(from.getTime() + DAY) };
  }
  const backdateHeartbeat = (id: string, minutes: number) =>
    stack.db.reconciliationRun.update({ where: { id }, data: { progressAt: MINUTES_AGO(minutes) } });

  it("resumes a run whose job was obliterated exactly once; a run with a fresh heartbeat is never touched", async () => {
    if (!worker) throw new Error("the stripe tests start the worker");
    const lost = await createReconciliationRun(deps(), system, await windowWithOneDiscrepancy(200), "MANUAL");
    // Its job queued (delayed, so the running worker cannot take it first), then lost with Redis.
    await queue.enqueue("payment-reconciliation", { runId: lost.id }, { delayMs: 60_000 });
    await queue.obliterate();
    expect(await queue.getJobState(reconciliationJobId(lost.id))).toBe("unknown");
    // Silent for 90 s: past this sweep's threshold, not yet past the worker's own (2 min) sweeps'.
    await stack.db.reconciliationRun.update({
      where: { id: lost.id },
      data: { progressAt: new Date(Date.now() - 90_000) },
    });

    // A live run (a handler still beating somewhere) alongside: the sweep must leave it alone.
    const live = await stack.db.reconciliationRun.create({
      data: {
        periodStart: new Date(Date.now() - 210 * DAY),
        periodEnd: new Date(Date.now() - 209 * DAY),
        trigger: "SCHEDULE",
        progressAt: new Date(Date.now() - 30_000),
        jobId: "live-elsewhere",
      },
    });
    const handed: string[] = [];
    const sweepOnce = () =>
      sweepStalledReconciliationRuns(
        stack.db,
        (ids) => {
          handed.push(...ids);
          return Promise.resolve();
        },
        { olderThanMs: 60_000 },
      );
    expect(await sweepOnce()).toEqual([lost.id]);
    // Claimed by that sweep (heartbeat moved): a second sweep right after hands nothing over.
    expect(await sweepOnce()).toEqual([]);
    expect(handed).toEqual([lost.id]);
    // Now past the worker's threshold: its sweep (this one, or its own every minute) resumes it.
    await backdateHeartbeat(lost.id, 5);

    await runJob("reconciliation-sweep");
    await expect
      .poll(async () => (await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: lost.id } })).status, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe("COMPLETED");
    await runJob("reconciliation-sweep");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await stack.db.discrepancy.count({ where: { runId: lost.id } })).toBe(1);
    expect(await stack.db.auditEvent.count({ where: { action: "reconciliation.completed", targetId: lost.id } })).toBe(
      1,
    );
    expect(
      await stack.db.jobRun.count({ where: { queueJobId: reconciliationJobId(lost.id), status: "SUCCEEDED" } }),
    ).toBe(1);
    const untouched = await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: live.id } });
    expect(untouched).toMatchObject({ status: "RUNNING", progressAt: live.progressAt, jobId: "live-elsewhere" });
    expect(await queue.getJobState(reconciliationJobId(live.id))).toBe("unknown");

    // Nor does the scheduled job take it over (after a flush its one-at-a-time lock proves nothing).
    const scheduled = await queue.add("payment-reconciliation", { trigger: "SCHEDULE" });
    await expect
      .poll(() => queue.getJobState(scheduled.id ?? ""), { timeout: 20_000, interval: 100 })
      .toBe("completed");
    expect((await stack.db.jobRun.findFirst({ where: { queueJobId: scheduled.id } }))?.summary).toContain("skipped");
    expect(await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: live.id } })).toMatchObject({
      status: "RUNNING",
      progressAt: live.progressAt,
    });
    await stack.db.reconciliationRun.delete({ where: { id: live.id } });
  });

  it("leaves a silent run alone while its recorded job is still active, and takes it once the job is gone", async () => {
    const run = await createReconciliationRun(deps(), system, await windowWithOneDiscrepancy(225), "MANUAL");
    // A real job held by a real (manual) BullMQ worker, on a queue of its own so the test stack's
    // worker can't take it: active, as the silent execution's job would be.
    const connection = connectionFor(stack.api.env.REDIS_URL);
    const prefix = `${stack.api.env.REDIS_PREFIX}-busy`;
    const busyQueue = new Queue("busy", { prefix, connection });
    const holder = new Worker("busy", null, { prefix, connection });
    const busy = await busyQueue.add("payment-reconciliation", { runId: run.id }, { jobId: `busy-${run.id}` });
    const held = await holder.getNextJob("test-token");
    expect(held?.id).toBe(busy.id);
    // Silent for 30 s, swept here at 10 s: the worker's own sweep (2 minutes) leaves it to this test.
    const silentSince = new Date(Date.now() - 30_000);
    await stack.db.reconciliationRun.update({
      where: { id: run.id },
      data: { progressAt: silentSince, jobId: busy.id },
    });
    const handed: string[] = [];
    const enqueue = (ids: string[]) => Promise.resolve(void handed.push(...ids));
    const sweep = () =>
      sweepStalledReconciliationRuns(stack.db, enqueue, {
        jobIsActive: async (jobId) => (await (await busyQueue.getJob(jobId))?.getState()) === "active",
        olderThanMs: 10_000,
      });
    try {
      expect(await sweep()).not.toContain(run.id);
      expect((await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: run.id } })).progressAt).toEqual(
        silentSince,
      );
      // The job ends (its worker gave up on it); the run, still silent, is taken once.
      await held?.moveToFailed(new Error("stalled too often"), "test-token", false);
      expect(await sweep()).toContain(run.id);
      expect(handed.filter((id) => id === run.id)).toHaveLength(1);
    } finally {
      await holder.close();
      await busyQueue.obliterate();
      await busyQueue.close();
      await stack.db.reconciliationRun.update({ where: { id: run.id }, data: { status: "FAILED" } });
    }
  });

  it("two executions of one run at once (an orphaned handler and its replacement) record it once", async () => {
    const run = await createReconciliationRun(deps(), system, await windowWithOneDiscrepancy(220), "MANUAL");
    // A slow Stripe keeps the first listing when the second execution takes the run over.
    stack.stripeSandbox.faults.set({ slowMs: 400 });
    const orphan = executeReconciliationRun(deps(), run.id, "orphan");
    await expect
      .poll(async () => (await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: run.id } })).jobId)
      .toBe("orphan");
    const replacement = executeReconciliationRun(deps(), run.id, "replacement");
    const outcomes = await Promise.all([orphan, replacement]).finally(() => stack.stripeSandbox.faults.clear());
    expect(outcomes.map((outcome) => outcome.superseded ?? false)).toEqual([true, false]);
    expect(await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
      status: "COMPLETED",
      discrepancyCount: 1,
    });
    expect(await stack.db.discrepancy.count({ where: { runId: run.id } })).toBe(1);
    expect(await stack.db.auditEvent.count({ where: { action: "reconciliation.completed", targetId: run.id } })).toBe(
      1,
    );
  });

  it("a start is refused while a run is live, and goes ahead minutes (not half an hour) after its job was lost", async () => {
    const START = `mutation ($from: DateTime, $to: DateTime) {
      startReconciliation(from: $from, to: $to) { __typename ... on MutationStartReconciliationSuccess { data { id } } }
    }`;
    // No worker from here on: its every-minute sweep would resume the run before the start comes.
    await worker?.stop();
    worker = null;
    const window = await windowWithOneDiscrepancy(230);
    const stuck = await createReconciliationRun(deps(), system, window, "MANUAL");
    const start = async () =>
      (
        await stack.api.graphql<{ startReconciliation: { __typename: string; data?: { id: string } } }>(
          START,
          { from: window.from.toISOString(), to: window.to.toISOString() },
          { cookie: stack.operatorCookie },
        )
      ).data?.startReconciliation;
    expect((await start())?.__typename).toBe("ConflictError");
    expect(await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: stuck.id } })).toMatchObject({
      status: "RUNNING",
    });
    // Its job lost 3 minutes ago: the heartbeat stopped then (it used to block for 30 minutes).
    await backdateHeartbeat(stuck.id, 3);
    const started = await start();
    expect(started?.__typename).toBe("MutationStartReconciliationSuccess");
    expect(await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: stuck.id } })).toMatchObject({
      status: "FAILED",
      error: "Abandoned: its worker stopped before it finished",
    });
    // The mutation answers a global id ("ReconciliationRun:<uuid>", base64).
    const newId =
      Buffer.from(started?.data?.id ?? "", "base64")
        .toString()
        .split(":")[1] ?? "";
    expect(await stack.db.reconciliationRun.findUniqueOrThrow({ where: { id: newId } })).toMatchObject({
      status: "RUNNING",
    });
    expect(await queue.getJobState(reconciliationJobId(newId))).toBe("waiting");
  });
});
