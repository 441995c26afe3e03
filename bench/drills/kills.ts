// The worker killed with SIGKILL in the middle of its work, again and again. BullMQ is
// at-least-once: a killed worker's job comes back (after its lock lapses) and runs again, so what
// these drills prove is that every handler is idempotent: every job completes, one Stripe refund
// per approved request, no slot double-booked, each email delivered once, each reconciliation run
// completed with every discrepancy recorded once.
import { systemActor } from "@steward/core/actor";
import { createEventBus } from "@steward/core/adapters/redisEvents";
import { createLogger } from "@steward/core/logger";
import { startReconciliation } from "@steward/core/reconciliation/runs";
import { reconciliationJobId } from "@steward/jobs/contracts";
import { Checks, type DrillResult, type DrillStack, random, sleep, waitUntil } from "./harness.ts";
import { claimedRefund, createBusiness, createRegion, enqueueEmails } from "./fixtures.ts";

async function killAndRestart(stack: DrillStack): Promise<void> {
  await stack.worker.kill();
  await stack.worker.start();
}

async function ensureWorker(stack: DrillStack): Promise<void> {
  if (!stack.worker.alive) await stack.worker.start();
}

async function jobStates(stack: DrillStack, ids: readonly string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (const id of ids) states.set(id, String(await stack.queue.getJobState(id)));
  return states;
}

async function allCompleted(stack: DrillStack, ids: readonly string[]): Promise<boolean> {
  return [...(await jobStates(stack, ids)).values()].every((state) => state === "completed");
}

/** Emails received per dedup key, and how many distinct Message-IDs each came with. */
function deliveries(stack: DrillStack, keys: readonly string[]) {
  const wanted = new Set(keys);
  const transmissions = new Map<string, number>();
  const messageIds = new Map<string, Set<string>>();
  for (const message of stack.smtp.messages()) {
    const key = message.headers["x-steward-dedup-key"];
    if (!key || !wanted.has(key)) continue;
    transmissions.set(key, (transmissions.get(key) ?? 0) + 1);
    const ids = messageIds.get(key) ?? new Set<string>();
    ids.add(message.messageId ?? "");
    messageIds.set(key, ids);
  }
  const received = keys.filter((key) => transmissions.has(key)).length;
  const retransmitted = [...transmissions.values()].reduce((sum, n) => sum + n - 1, 0);
  const distinctIdsOk = [...messageIds.values()].every((ids) => ids.size === 1);
  return { received, retransmitted, distinctIdsOk };
}

/**
 * Runs outbox delivery until every message is SENT (standing in for its every-minute schedule),
 * then checks each email reached the receiver once. An SMTP "250 OK" followed by a kill before the
 * database commit is the one window where a retransmission is unavoidable (no SMTP is
 * transactional); it carries the same Message-ID, so the mailbox shows one email. Those are
 * counted, and must not exceed the number of kills.
 */
export async function deliverAndCheckEmails(
  stack: DrillStack,
  checks: Checks,
  dedupKeys: readonly string[],
  kills: number,
): Promise<string> {
  const sentCount = () => stack.db.outboxMessage.count({ where: { dedupKey: { in: [...dedupKeys] }, status: "SENT" } });
  await waitUntil(
    "every outbox email SENT",
    async () => {
      if ((await sentCount()) === dedupKeys.length) return true;
      await stack.queue.add("outbox-delivery", { trigger: "MANUAL" });
      await sleep(1500);
      return false;
    },
    120_000,
    0,
  );
  const dead = await stack.db.outboxMessage.count({ where: { dedupKey: { in: [...dedupKeys] }, status: "DEAD" } });
  checks.equal("every email SENT (none lost, none dead)", await sentCount(), dedupKeys.length);
  checks.equal("no email DEAD", dead, 0);
  const { received, retransmitted, distinctIdsOk } = deliveries(stack, dedupKeys);
  checks.equal("every email reached the SMTP receiver", received, dedupKeys.length);
  checks.expect("each email has one Message-ID (one email in the mailbox)", distinctIdsOk);
  checks.expect(
    "SMTP retransmissions ≤ kills (only a kill between 250 OK and the commit resends)",
    retransmitted <= kills,
    `${retransmitted} retransmitted, ${kills} kills`,
  );
  return `${retransmitted} SMTP retransmission(s) after a kill between 250 and commit`;
}

// ───────────────────────────── A refund in flight ─────────────────────────────

export async function drillKillDuringRefunds(stack: DrillStack, kills: number, perKill = 2): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  await ensureWorker(stack);
  const region = await createRegion(stack.db, 10_000);
  const requests: { requestId: string; chargeId: string; email: string }[] = [];
  let inFlightAtKill = 0;
  for (let round = 0; round < kills; round++) {
    const batch = await Promise.all(
      Array.from({ length: perKill }, () => claimedRefund(stack.db, stack.stripe, region.id)),
    );
    requests.push(
      ...batch.map((b) => ({ requestId: b.requestId, chargeId: b.payment.stripeChargeId, email: b.email })),
    );
    // A slow Stripe: the refund is executed after the pause even if the caller is gone by then.
    const slowMs = Math.round(random(300, 900));
    stack.stripe.faults.set({ slowMs });
    const keys = new Set(batch.map((b) => `refund-request-${b.requestId}`));
    // What the approval enqueues after its commit.
    for (const { requestId } of batch) await stack.queue.enqueue("refund-execute", { refundRequestId: requestId });
    await waitUntil(
      "a refund call at Stripe",
      () => stack.stripe.requests().some((r) => r.path === "/v1/refunds" && keys.has(r.idempotencyKey ?? "")),
      30_000,
      10,
    );
    await sleep(random(0, slowMs + 100));
    if (stack.stripe.requests().some((r) => r.path === "/v1/refunds" && r.status === 0)) inFlightAtKill++;
    await killAndRestart(stack);
  }
  stack.stripe.faults.clear();

  const ids = requests.map((r) => r.requestId);
  const approved = () => stack.db.refundRequest.count({ where: { id: { in: ids }, status: "APPROVED" } });
  await waitUntil("every refund request APPROVED", async () => (await approved()) === ids.length, 120_000, 250);
  const jobIds = ids.map((id) => `refund-execute-${id}`);
  await waitUntil("every refund-execute job completed", () => allCompleted(stack, jobIds), 60_000, 250).catch(
    () => undefined,
  );
  const states = await jobStates(stack, jobIds);
  checks.equal(
    "every refund-execute job completed",
    [...states.values()].filter((s) => s === "completed").length,
    jobIds.length,
  );
  checks.equal("every request APPROVED", await approved(), ids.length);

  let oneRefundEach = 0;
  let idsMatch = 0;
  const rows = await stack.db.refundRequest.findMany({ where: { id: { in: ids } } });
  for (const request of requests) {
    const atStripe = stack.stripe.state.refunds.values().filter((refund) => refund.charge === request.chargeId);
    if (atStripe.length === 1) oneRefundEach++;
    const row = rows.find((r) => r.id === request.requestId);
    if (row?.stripeRefundId && row.stripeRefundId === atStripe[0]?.id) idsMatch++;
  }
  checks.equal("exactly one Stripe refund per approved request", oneRefundEach, ids.length);
  checks.equal("each request records that one refund", idsMatch, ids.length);
  checks.equal(
    "every payment REFUNDED",
    await stack.db.payment.count({ where: { refundRequests: { some: { id: { in: ids } } }, status: "REFUNDED" } }),
    ids.length,
  );
  checks.equal(
    "one refund.completed audit per request",
    await stack.db.auditEvent.count({ where: { targetId: { in: ids }, action: "refund.completed" } }),
    ids.length,
  );
  const dedupKeys = ids.map((id) => `refund-approved-${id}`);
  checks.equal(
    "one refund email queued per request",
    await stack.db.outboxMessage.count({ where: { dedupKey: { in: dedupKeys } } }),
    ids.length,
  );
  const emailNote = await deliverAndCheckEmails(stack, checks, dedupKeys, 0);
  const replays = stack.stripe
    .requests()
    .filter(
      (r) => r.path === "/v1/refunds" && r.replayed && ids.some((id) => r.idempotencyKey === `refund-request-${id}`),
    ).length;
  return {
    name: "worker SIGKILLed mid refund (slow Stripe)",
    runs: `${kills} kills, ${ids.length} refunds`,
    checks: checks.list,
    durationMs: Date.now() - started,
    figures: `${inFlightAtKill}/${kills} kills with a Stripe call in flight; ${replays} idempotent replays; ${emailNote}`,
  };
}

// ───────────────────────────── Expiry and promotion ─────────────────────────────

const SLOTS = 5;

export async function drillKillDuringExpiry(stack: DrillStack, kills: number, regions = 200): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  await ensureWorker(stack);
  const db = stack.db;
  const tag = `exp${Date.now().toString(36)}`;
  const queued = kills + 2;
  // Per region: 5 active placements, then `queued` waiting, bought later (FIFO order is by purchase).
  await db.$executeRawUnsafe(
    `INSERT INTO "Region" (id, slug, name, "featuredSlots")
     SELECT uuid_generate_v7(), '${tag}-' || g, 'Expiry drill ' || g, ${SLOTS} FROM generate_series(1, ${regions}) g`,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO "Business" (id, "regionId", name, email)
     SELECT uuid_generate_v7(), r.id, r.name || ' business ' || g, '${tag}-' || r.slug || '-' || g || '@example.com'
       FROM "Region" r CROSS JOIN generate_series(1, ${SLOTS + queued}) g WHERE r.slug LIKE '${tag}-%'`,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO "Placement" (id, "businessId", "regionId", status, "purchasedAt", "activatedAt", "featuredUntil")
     SELECT uuid_generate_v7(), b.id, b."regionId",
            CASE WHEN b.rn <= ${SLOTS} THEN 'ACTIVE'::"PlacementStatus" ELSE 'QUEUED'::"PlacementStatus" END,
            now() - ((1000 - b.rn) || ' hours')::interval,
            CASE WHEN b.rn <= ${SLOTS} THEN now() - interval '20 days' END,
            CASE WHEN b.rn <= ${SLOTS} THEN now() + interval '10 days' END
       FROM (SELECT b.id, b."regionId", row_number() OVER (PARTITION BY b."regionId" ORDER BY b.email) rn
               FROM "Business" b JOIN "Region" r ON r.id = b."regionId" WHERE r.slug LIKE '${tag}-%') b`,
  );
  const inDrill = `"regionId" IN (SELECT id FROM "Region" WHERE slug LIKE '${tag}-%')`;
  let expectedExpired = 0;
  let killedRunning = 0;
  let lastDurationMs = 300;
  const jobIds: string[] = [];
  let violations = 0;
  for (let round = 0; round < kills; round++) {
    // Time passes: one active placement per region reaches its end.
    expectedExpired += await db.$executeRawUnsafe(
      `UPDATE "Placement" SET "featuredUntil" = now() - interval '1 second'
        WHERE id IN (SELECT DISTINCT ON ("regionId") id FROM "Placement"
                      WHERE status = 'ACTIVE' AND ${inDrill} ORDER BY "regionId", random())`,
    );
    const job = await stack.queue.add("featured-expiry-and-promotion", { trigger: "MANUAL" });
    const jobId = job.id ?? "";
    jobIds.push(jobId);
    await waitUntil(
      "the expiry run to start",
      async () => (await db.jobRun.count({ where: { queueJobId: jobId, status: "RUNNING" } })) > 0,
      30_000,
      5,
    );
    await sleep(random(0, lastDurationMs * 1.2));
    if ((await db.jobRun.count({ where: { queueJobId: jobId, status: "RUNNING" } })) > 0) killedRunning++;
    await killAndRestart(stack);
    await waitUntil("the expiry job to complete after the kill", () => allCompleted(stack, [jobId]), 60_000, 100);
    const run = await db.jobRun.findFirst({ where: { queueJobId: jobId, status: "SUCCEEDED" } });
    if (run?.durationMs) lastDurationMs = Math.max(50, run.durationMs);
    // After every run: no region over its slots, none with a free slot while someone waits,
    // nobody active past their end, nobody promoted ahead of an earlier buyer.
    const [bad] = await db.$queryRawUnsafe<{ n: number }[]>(
      `WITH per AS (
         SELECT r.id, r."featuredSlots",
                count(*) FILTER (WHERE p.status = 'ACTIVE') AS active,
                count(*) FILTER (WHERE p.status = 'QUEUED') AS queued,
                count(*) FILTER (WHERE p.status = 'ACTIVE' AND p."featuredUntil" <= now()) AS stale,
                max(p."purchasedAt") FILTER (WHERE p.status = 'ACTIVE') AS last_active,
                min(p."purchasedAt") FILTER (WHERE p.status = 'QUEUED') AS first_queued
           FROM "Region" r JOIN "Placement" p ON p."regionId" = r.id
          WHERE r.slug LIKE '${tag}-%' GROUP BY r.id, r."featuredSlots")
       SELECT count(*)::int AS n FROM per
        WHERE active > "featuredSlots" OR (active < "featuredSlots" AND queued > 0) OR stale > 0
           OR last_active > first_queued`,
    );
    violations += bad?.n ?? 0;
  }
  const [expired] = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM "Placement" WHERE status = 'EXPIRED' AND ${inDrill}`,
  );
  const [active] = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM "Placement" WHERE status = 'ACTIVE' AND ${inDrill}`,
  );
  const [promotedTwice] = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM "Placement" WHERE status = 'QUEUED' AND "activatedAt" IS NOT NULL AND ${inDrill}`,
  );
  checks.equal(
    "every expiry job completed",
    [...(await jobStates(stack, jobIds)).values()].filter((s) => s === "completed").length,
    kills,
  );
  checks.equal("no region over its slots, none short while someone waits, FIFO kept (after every run)", violations, 0);
  checks.equal("every placement past its end expired exactly once", expired?.n ?? -1, expectedExpired);
  checks.equal("every region's slots full", active?.n ?? -1, regions * SLOTS);
  checks.equal("no half-promoted placement (a killed run left nothing behind)", promotedTwice?.n ?? -1, 0);
  return {
    name: "worker SIGKILLed mid expiry-and-promotion",
    runs: `${kills} kills, ${regions} regions`,
    checks: checks.list,
    durationMs: Date.now() - started,
    figures: `${killedRunning}/${kills} kills while the run was recorded RUNNING; ${expectedExpired} expirations, one run ≈ ${lastDurationMs} ms`,
  };
}

// ───────────────────────────── Outbox delivery ─────────────────────────────

export async function drillKillDuringOutbox(stack: DrillStack, kills: number, perKill = 15): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  await ensureWorker(stack);
  const keys: string[] = [];
  let killedSending = 0;
  for (let round = 0; round < kills; round++) {
    const batch = await enqueueEmails(stack.db, perKill, `outbox${round}`);
    keys.push(...batch);
    const before = stack.smtp.messages().length;
    await stack.queue.add("outbox-delivery", { trigger: "MANUAL" });
    // Kill once the first of this batch has arrived: the rest are claimed or on their way.
    await waitUntil("the first email of the batch", () => stack.smtp.messages().length > before, 30_000, 2);
    await sleep(random(0, 60));
    const sent = await stack.db.outboxMessage.count({ where: { dedupKey: { in: batch }, status: "SENT" } });
    if (sent < batch.length) killedSending++;
    await killAndRestart(stack);
  }
  const emailNote = await deliverAndCheckEmails(stack, checks, keys, kills);
  checks.equal(
    "one successful delivery attempt recorded per email",
    await stack.db.deliveryAttempt.count({ where: { ok: true, outbox: { dedupKey: { in: keys } } } }),
    keys.length,
  );
  return {
    name: "worker SIGKILLed mid outbox delivery",
    runs: `${kills} kills, ${keys.length} emails`,
    checks: checks.list,
    durationMs: Date.now() - started,
    figures: `${killedSending}/${kills} kills with the batch half sent; ${emailNote}`,
  };
}

// ───────────────────────────── Reconciliation pages ─────────────────────────────

/** Kills per run: BullMQ gives up on a job that stalled more than the worker's limit (5). */
const KILLS_PER_RUN = 3;
const RECON_PAGE = 100;

interface SeededRecon {
  from: Date;
  to: Date;
  businessId: string;
  /** "kind chargeId" of every discrepancy the run must record, and nothing else. */
  expected: Set<string>;
  stripeTotals: Record<string, { count: number; amountCents: number; refundedCents: number }>;
  dbTotals: Record<string, { count: number; amountCents: number; refundedCents: number }>;
  charges: number;
}

/**
 * A day in the past (its own window, so other drills' charges are not in it): `matching` charges
 * with their payments, and a known set of discrepancies of every kind, spread across the pages.
 */
async function seedReconciliation(stack: DrillStack, matching: number, daysAgo: number): Promise<SeededRecon> {
  const from = new Date(Math.floor((Date.now() - daysAgo * 86_400_000) / 1000) * 1000);
  const to = new Date(from.getTime() + 86_400_000);
  const region = await createRegion(stack.db, 10_000);
  const business = await createBusiness(stack.db, region.id);
  const at = (index: number, of: number) =>
    Math.floor(from.getTime() / 1000) + Math.floor(((index + 0.5) * 86_000) / of);
  type Kind = "MISSING_IN_DB" | "MISSING_IN_STRIPE" | "AMOUNT_MISMATCH" | "CURRENCY_MISMATCH" | "REFUND_MISMATCH";
  // Every 40th charge is a discrepancy, cycling through the kinds: several of each, on every page.
  const kinds: Kind[] = [
    "MISSING_IN_DB",
    "MISSING_IN_STRIPE",
    "AMOUNT_MISMATCH",
    "CURRENCY_MISMATCH",
    "REFUND_MISMATCH",
  ];
  const expected = new Set<string>();
  const stripeTotals: SeededRecon["stripeTotals"] = {};
  const dbTotals: SeededRecon["dbTotals"] = {};
  const add = (totals: SeededRecon["stripeTotals"], currency: string, amount: number, refunded = 0) => {
    const total = (totals[currency] ??= { count: 0, amountCents: 0, refundedCents: 0 });
    total.count++;
    total.amountCents += amount;
    total.refundedCents += refunded;
  };
  const payments: { stripeChargeId: string; amountCents: number; currency: string; purchasedAt: Date }[] = [];
  let charges = 0;
  for (let index = 0; index < matching; index++) {
    const kind = index % 40 === 7 ? kinds[Math.floor(index / 40) % kinds.length] : undefined;
    const created = at(index, matching);
    const amount = 1500 + (index % 7) * 100;
    const purchasedAt = new Date(created * 1000);
    if (kind === "MISSING_IN_STRIPE") {
      const id = `ch_drillmissing${index}${Date.now().toString(36)}`;
      payments.push({ stripeChargeId: id, amountCents: amount, currency: "aud", purchasedAt });
      add(dbTotals, "aud", amount);
      expected.add(`${kind} ${id}`);
      continue;
    }
    const [charge] = stack.stripe.seedCharges([
      { amount, currency: "aud", created, metadata: { business_id: business.id } },
    ]);
    if (!charge) throw new Error("sandbox returned no charge");
    charges++;
    let refunded = 0;
    if (kind === "REFUND_MISMATCH") refunded = stack.stripe.createRefund({ charge: charge.id, amount: 500 }).amount;
    add(stripeTotals, "aud", amount, refunded);
    if (kind) expected.add(`${kind} ${charge.id}`);
    if (kind === "MISSING_IN_DB") continue;
    const ours = {
      stripeChargeId: charge.id,
      amountCents: kind === "AMOUNT_MISMATCH" ? amount + 100 : amount,
      currency: kind === "CURRENCY_MISMATCH" ? "nzd" : "aud",
      purchasedAt,
    };
    payments.push(ours);
    add(dbTotals, ours.currency, ours.amountCents);
  }
  await stack.db.payment.createMany({
    data: payments.map((p) => ({ ...p, businessId: business.id, status: "SUCCEEDED" as const })),
  });
  return { from, to, businessId: business.id, expected, stripeTotals, dbTotals, charges };
}

const paymentsSnapshot = async (stack: DrillStack, businessId: string) =>
  JSON.stringify(
    await stack.db.payment.findMany({
      where: { businessId },
      orderBy: { id: "asc" },
      select: { id: true, status: true, amountCents: true, currency: true, refundedCents: true, updatedAt: true },
    }),
  );

/** Kills the worker while the job lists Stripe's charges: after 0..pages-1 pages, one in flight. */
async function killMidPage(stack: DrillStack, pages: number): Promise<boolean> {
  const listed = () => stack.stripe.requests().filter((r) => r.path === "/v1/charges" && r.method === "GET");
  const before = listed().length;
  const after = Math.floor(random(0, pages - 1));
  await waitUntil(
    "a charges page in flight",
    () => {
      const mine = listed().slice(before);
      return mine.length > after && mine[mine.length - 1]?.status === 0;
    },
    60_000,
    5,
  );
  await sleep(random(0, stack.stripe.faults.slowMs * 0.8));
  const midPage = listed().at(-1)?.status === 0;
  await killAndRestart(stack);
  return midPage;
}

export async function drillKillDuringReconciliation(
  stack: DrillStack,
  kills: number,
  matching = 550,
): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  await ensureWorker(stack);
  const seeded = await seedReconciliation(stack, matching, 60);
  const pages = Math.ceil((seeded.charges + 1) / RECON_PAGE);
  const before = await paymentsSnapshot(stack, seeded.businessId);
  const operator = systemActor("drill");
  const bus = createEventBus(stack.redis.url, stack.env.REDIS_PREFIX ?? "drill");
  const events = bus.bus;
  const logger = createLogger("drill-reconciliation", "silent");
  let killedMidPage = 0;
  let killsDone = 0;
  const runIds: string[] = [];
  const jobIds: string[] = [];
  let runMs = 0;
  // A slow Stripe: a page takes long enough for the kill to land inside it.
  stack.stripe.faults.set({ slowMs: 250 });
  try {
    // As the API does: the run recorded RUNNING, then its job queued; each run killed a few times.
    while (killsDone < kills) {
      const run = await startReconciliation({ db: stack.db, events, jobs: stack.queue, logger }, operator, {
        from: seeded.from,
        to: seeded.to,
      });
      runIds.push(run.id);
      jobIds.push(reconciliationJobId(run.id));
      for (let kill = 0; kill < KILLS_PER_RUN && killsDone < kills; kill++, killsDone++)
        if (await killMidPage(stack, pages)) killedMidPage++;
      const waited = Date.now();
      await waitUntil(
        "the killed run to complete",
        async () => (await stack.db.reconciliationRun.findUnique({ where: { id: run.id } }))?.status === "COMPLETED",
        120_000,
        100,
      ).catch(() => undefined);
      runMs = Date.now() - waited;
    }
    // The schedule's path (no run id): killed right after it recorded its run, the redelivered job
    // must resume that run, not skip it as "already underway" and leave it RUNNING.
    const scheduled = await stack.queue.add("payment-reconciliation", { trigger: "SCHEDULE" });
    const scheduledId = scheduled.id ?? "";
    jobIds.push(scheduledId);
    await waitUntil(
      "the scheduled run to be recorded",
      async () => (await stack.db.reconciliationRun.count({ where: { status: "RUNNING", trigger: "SCHEDULE" } })) > 0,
      60_000,
      5,
    );
    const scheduledRun = await stack.db.reconciliationRun.findFirstOrThrow({
      where: { status: "RUNNING", trigger: "SCHEDULE" },
    });
    await killAndRestart(stack);
    await waitUntil("the scheduled job to finish", () => allCompleted(stack, [scheduledId]), 120_000, 100).catch(
      () => undefined,
    );
    const scheduledAfter = await stack.db.reconciliationRun.findUnique({ where: { id: scheduledRun.id } });
    checks.expect(
      "a scheduled run killed mid-run is resumed by its redelivered job (not left RUNNING)",
      scheduledAfter?.status === "COMPLETED",
      `${scheduledAfter?.status}`,
    );
  } finally {
    stack.stripe.faults.clear();
    await bus.close();
  }

  const states = await jobStates(stack, jobIds);
  checks.equal(
    "every reconciliation job completed",
    [...states.values()].filter((s) => s === "completed").length,
    jobIds.length,
  );
  const runs = await stack.db.reconciliationRun.findMany({ where: { id: { in: runIds } } });
  checks.equal(
    "every killed run COMPLETED (resumed, none stuck RUNNING)",
    runs.filter((r) => r.status === "COMPLETED").length,
    runIds.length,
  );
  checks.equal(
    "no run left RUNNING to block the next start",
    await stack.db.reconciliationRun.count({ where: { status: "RUNNING" } }),
    0,
  );
  const recorded = await stack.db.discrepancy.findMany({
    where: { runId: { in: runIds } },
    select: { runId: true, kind: true, stripeChargeId: true },
  });
  let exact = 0;
  let extra = 0;
  for (const runId of runIds) {
    const mine = recorded.filter((d) => d.runId === runId).map((d) => `${d.kind} ${d.stripeChargeId}`);
    const set = new Set(mine);
    if (mine.length === set.size && set.size === seeded.expected.size && [...seeded.expected].every((k) => set.has(k)))
      exact++;
    extra += mine.filter((key) => !seeded.expected.has(key)).length;
  }
  checks.equal("every run recorded each seeded discrepancy exactly once", exact, runIds.length);
  checks.equal("no discrepancy recorded that was not seeded", extra, 0);
  const sameTotals = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  checks.equal(
    "every run's totals right (both sides, per currency) and all charges compared",
    runs.filter(
      (r) =>
        sameTotals(r.stripeTotals, seeded.stripeTotals) &&
        sameTotals(r.dbTotals, seeded.dbTotals) &&
        r.chargesCompared === seeded.charges &&
        r.discrepancyCount === seeded.expected.size,
    ).length,
    runIds.length,
  );
  checks.expect("payments unchanged by the runs", (await paymentsSnapshot(stack, seeded.businessId)) === before);
  checks.equal(
    "staging emptied (no charges left behind by killed runs)",
    await stack.db.reconciliationCharge.count({ where: { runId: { in: runIds } } }),
    0,
  );
  return {
    name: "worker SIGKILLed mid reconciliation page",
    runs: `${kills} kills + 1, ${runIds.length} runs × ${pages} pages`,
    checks: checks.list,
    durationMs: Date.now() - started,
    figures: `${killedMidPage}/${kills} kills with a page in flight; ${seeded.expected.size} seeded discrepancies per run; last run done ${(runMs / 1000).toFixed(1)} s after its last kill`,
  };
}
