// Reconciliation against the Stripe sandbox (the real SDK, auto-pagination, faults), real
// PostgreSQL and Redis, and a real worker: every discrepancy kind found charge by charge, the
// period's edges and in-flight webhooks reconcile clean, a Stripe 500/429 mid-run retries one page,
// fixes re-check Stripe and reuse the webhook's path, exports match the run, bad input changes nothing.
// Each test works in its own window of days in the past, so the tests never see each other's charges.
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import type { ReconciliationDeps } from "@steward/core/reconciliation/context";
import {
  createReconciliationRun,
  executeReconciliationRun,
  latestReconciliationSummary,
} from "@steward/core/reconciliation/runs";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import type { Payment } from "@steward/db/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createBusiness,
  createPaidPlacement,
  createRegion,
  globalId,
  HOUR,
  type PaymentsStack,
  startPaymentsStack,
} from "./payments-stack.ts";
import { quietDeps } from "../support/deps.ts";

const DAY = 24 * HOUR;
let stack: PaymentsStack;
let bus: EventBusHandle;
let deps: ReconciliationDeps;
let regionId: string;

const system = { kind: "SYSTEM", label: "test" } as const;

const RESOLVE = `mutation ($id: ID!, $action: DiscrepancyAction!, $note: String) {
  resolveDiscrepancy(id: $id, action: $action, note: $note) {
    __typename
    ... on MutationResolveDiscrepancySuccess { data { id resolution resolutionNote resolvedBy { email } payment { id status } } }
    ... on Error { message }
  }
}`;
const START = `mutation ($from: DateTime, $to: DateTime) {
  startReconciliation(from: $from, to: $to) {
    __typename
    ... on MutationStartReconciliationSuccess { data { id status periodStart periodEnd } }
    ... on Error { message }
  }
}`;
const RUN = `query ($id: ID!) {
  reconciliationRun(id: $id) {
    status clean discrepancyCount openDiscrepancyCount chargesCompared csvUrl jsonUrl
    totals { currency stripeCount stripeAmountCents dbCount dbAmountCents }
    discrepancies(first: 100) { edges { node { id kind stripeChargeId fixes resolution } } }
  }
}`;

interface Outcome {
  __typename: string;
  message?: string;
  data?: { resolution: string; resolutionNote: string | null; payment: { id: string; status: string } | null };
}

async function resolve(id: string, action: string, note?: string): Promise<Outcome> {
  const result = await stack.api.graphql<{ resolveDiscrepancy: Outcome }>(
    RESOLVE,
    { id: globalId("Discrepancy", id), action, note },
    { cookie: stack.operatorCookie },
  );
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.resolveDiscrepancy;
}

/** A charge at the sandbox only (a webhook we never received). */
function stripeOnlyCharge(businessId: string, at: Date, options: { amount?: number; currency?: string } = {}) {
  const [charge] = stack.stripeSandbox.seedCharges([
    {
      amount: options.amount ?? 2200,
      currency: options.currency ?? "aud",
      created: Math.floor(at.getTime() / 1000),
      metadata: { business_id: businessId },
    },
  ]);
  if (!charge) throw new Error("no charge");
  return charge;
}

/** A charge at the sandbox and our payment for it, with the differences a test asks for. */
async function pair(
  businessId: string,
  at: Date,
  ours: { amountCents?: number; currency?: string; purchasedAt?: Date } = {},
  stripeSide: { status?: "succeeded" | "failed" } = {},
): Promise<Payment> {
  const [charge] = stack.stripeSandbox.seedCharges([
    {
      amount: 2200,
      currency: "aud",
      created: Math.floor(at.getTime() / 1000),
      metadata: { business_id: businessId },
      status: stripeSide.status ?? "succeeded",
    },
  ]);
  return stack.db.payment.create({
    data: {
      stripeChargeId: charge!.id,
      businessId,
      amountCents: ours.amountCents ?? 2200,
      currency: ours.currency ?? "aud",
      status: "SUCCEEDED",
      purchasedAt: ours.purchasedAt ?? at,
    },
  });
}

async function paymentsSnapshot() {
  return stack.db.payment.findMany({
    orderBy: { id: "asc" },
    select: { id: true, status: true, amountCents: true, refundedCents: true, currency: true },
  });
}

/** A run's discrepancies by kind (alphabetically), then charge id. */
async function discrepanciesOf(runId: string) {
  const rows = await stack.db.discrepancy.findMany({ where: { runId } });
  return rows.sort((a, b) => `${a.kind} ${a.stripeChargeId}`.localeCompare(`${b.kind} ${b.stripeChargeId}`));
}

beforeAll(async () => {
  // The worker's minutely Stripe health check lists charges too: off here, so it cannot take a fault meant for a run.
  stack = await startPaymentsStack({
    worker: true,
    env: { STRIPE_TIMEOUT_MS: "3000", HEALTH_CHECKS_CRON: "0 0 1 1 *" },
  });
  bus = createEventBus(stack.api.env.REDIS_URL, stack.api.env.REDIS_PREFIX);
  deps = {
    ...quietDeps(stack.db),
    copyIn: pgCopyIn(stack.api.env.DATABASE_URL),
    events: bus.bus,
    stripe: createStripeGateway(stack.api.env),
    sleep: () => Promise.resolve(),
  };
  regionId = (await createRegion(stack.db, 5)).id;
});
afterAll(async () => {
  await bus?.close();
  await stack?.stop();
});
beforeEach(() => {
  stack.stripeSandbox.faults.clear();
});

describe("a run", () => {
  it("classifies every kind of discrepancy by charge id, reconciles the edges clean and changes no payment", async () => {
    const from = new Date(Math.floor((Date.now() - 40 * DAY) / 1000) * 1000);
    const to = new Date(from.getTime() + 2 * DAY);
    const mid = new Date(from.getTime() + DAY);
    const business = await createBusiness(stack.db, regionId);

    // Healthy: recorded on both sides, including exactly at the start and one second before the end.
    const healthy = [
      await createPaidPlacement(stack, business, mid),
      await createPaidPlacement(stack, business, from),
      await createPaidPlacement(stack, business, new Date(to.getTime() - 1000)),
    ];
    // At the end (exclusive) on both sides: belongs to the next period.
    await createPaidPlacement(stack, business, to);
    // Our time and Stripe's differ by seconds across either edge: still the same charge, no discrepancy.
    await pair(business.id, new Date(from.getTime() + 20_000), { purchasedAt: new Date(from.getTime() - 20_000) });
    await pair(business.id, new Date(to.getTime() + 20_000), { purchasedAt: new Date(to.getTime() - 20_000) });

    const missed = stripeOnlyCharge(business.id, new Date(mid.getTime() + HOUR));
    const ghost = await stack.db.payment.create({
      data: {
        stripeChargeId: "ch_ghost_never_at_stripe_0001",
        businessId: business.id,
        amountCents: 2200,
        currency: "aud",
        status: "SUCCEEDED",
        purchasedAt: new Date(mid.getTime() + 2 * HOUR),
      },
    });
    const failedThere = await pair(business.id, new Date(mid.getTime() + 3 * HOUR), {}, { status: "failed" });
    const amount = await pair(business.id, new Date(mid.getTime() + 4 * HOUR), { amountCents: 2000 });
    const currency = await pair(business.id, new Date(mid.getTime() + 5 * HOUR), { currency: "nzd" });
    const refunded = await createPaidPlacement(stack, business, new Date(mid.getTime() + 6 * HOUR));
    await stack.stripe.refunds.create({ charge: refunded.stripeChargeId });
    // A missed charge whose webhook is being processed right now: in flight, not a discrepancy.
    const arriving = stripeOnlyCharge(business.id, new Date(mid.getTime() + 7 * HOUR));
    await stack.db.stripeWebhookEvent.create({
      data: { id: "evt_reconciliation_in_flight", type: "charge.succeeded", objectId: arriving.id, payload: {} },
    });

    const before = await paymentsSnapshot();
    const run = await createReconciliationRun(deps, system, { from, to }, "MANUAL");
    const { run: done } = await executeReconciliationRun(deps, run.id);

    expect(done).toMatchObject({ status: "COMPLETED", inFlightCount: 1, periodStart: from, periodEnd: to });
    const found = (await discrepanciesOf(run.id)).map((d) => [d.kind, d.stripeChargeId]);
    expect(found).toEqual(
      [
        ["MISSING_IN_DB", missed.id],
        ["MISSING_IN_STRIPE", ghost.stripeChargeId],
        ["MISSING_IN_STRIPE", failedThere.stripeChargeId],
        ["AMOUNT_MISMATCH", amount.stripeChargeId],
        ["CURRENCY_MISMATCH", currency.stripeChargeId],
        ["REFUND_MISMATCH", refunded.stripeChargeId],
      ].sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`)),
    );
    expect(healthy.every((p) => !found.some(([, id]) => id === p.stripeChargeId))).toBe(true);
    // Stripe: 3 healthy + 2 edge-skewed (one lies in the period at Stripe) + missed + amount + currency +
    // refunded + arriving = succeeded charges in [from, to).
    expect(done.stripeTotals).toEqual({ aud: { count: 9, amountCents: 9 * 2200, refundedCents: 2200 } });
    expect(done.dbTotals).toEqual({
      aud: { count: 8, amountCents: 7 * 2200 + 2000, refundedCents: 0 },
      nzd: { count: 1, amountCents: 2200, refundedCents: 0 },
    });
    expect(await paymentsSnapshot()).toEqual(before);

    // Open discrepancies raise the red alert.
    const alert = await stack.db.alert.findUniqueOrThrow({ where: { fingerprint: "reconciliation.mismatch" } });
    expect(alert).toMatchObject({ severity: "RED", status: "FIRING", ruleKey: "reconciliation.mismatch" });

    // Idempotent: the same period again finds the same, and still changes nothing.
    const again = await createReconciliationRun(deps, system, { from, to }, "MANUAL");
    await executeReconciliationRun(deps, again.id);
    expect((await discrepanciesOf(again.id)).map((d) => [d.kind, d.stripeChargeId])).toEqual(found);
    expect(await paymentsSnapshot()).toEqual(before);
    expect(await stack.db.reconciliationCharge.count()).toBe(0);

    // Fixes: each re-checks Stripe; the import goes through the webhook's path.
    const byKind = async (runId: string, kind: string) => (await discrepanciesOf(runId)).filter((d) => d.kind === kind);
    const [toImport] = await byKind(again.id, "MISSING_IN_DB");
    const imported = await resolve(toImport!.id, "IMPORT");
    expect(imported).toMatchObject({
      __typename: "MutationResolveDiscrepancySuccess",
      data: { resolution: "IMPORTED" },
    });
    const payment = await stack.db.payment.findUniqueOrThrow({
      where: { stripeChargeId: missed.id },
      include: { placement: true },
    });
    expect(payment).toMatchObject({ status: "SUCCEEDED", amountCents: 2200, businessId: business.id });
    expect(["ACTIVE", "QUEUED"]).toContain(payment.placement?.status);
    expect(imported.data?.payment?.id).toBe(globalId("Payment", payment.id));
    expect(await resolve(toImport!.id, "IMPORT")).toMatchObject({
      __typename: "ConflictError",
      message: "This discrepancy is already resolved",
    });

    const missingInStripe = await byKind(again.id, "MISSING_IN_STRIPE");
    const ghostFix = missingInStripe.find((d) => d.stripeChargeId === ghost.stripeChargeId);
    const failedFix = missingInStripe.find((d) => d.stripeChargeId === failedThere.stripeChargeId);
    expect(await resolve(ghostFix!.id, "MARK_FAILED")).toMatchObject({ data: { resolution: "MARKED_FAILED" } });
    expect(await resolve(failedFix!.id, "MARK_FAILED", "Card declined at Stripe")).toMatchObject({
      data: { resolution: "MARKED_FAILED", resolutionNote: "Card declined at Stripe" },
    });
    expect((await stack.db.payment.findUniqueOrThrow({ where: { id: ghost.id } })).status).toBe("FAILED");

    const [refundFix] = await byKind(again.id, "REFUND_MISMATCH");
    expect(await resolve(refundFix!.id, "MARK_REFUNDED")).toMatchObject({ data: { resolution: "MARKED_REFUNDED" } });
    expect(
      await stack.db.payment.findUniqueOrThrow({ where: { id: refunded.id }, include: { placement: true } }),
    ).toMatchObject({ status: "REFUNDED", refundedCents: 2200, placement: { status: "REFUNDED" } });

    // A fix that does not apply to the kind, or an accept without a note: typed errors, nothing changed.
    const [amountFix] = await byKind(again.id, "AMOUNT_MISMATCH");
    const untouched = await paymentsSnapshot();
    expect(await resolve(amountFix!.id, "MARK_FAILED")).toMatchObject({ __typename: "FixNotApplicableError" });
    expect(await resolve(amountFix!.id, "IMPORT")).toMatchObject({ __typename: "FixNotApplicableError" });
    expect(await resolve(amountFix!.id, "ACCEPT")).toMatchObject({ __typename: "InvalidInputError" });
    expect(await paymentsSnapshot()).toEqual(untouched);
    expect((await stack.db.discrepancy.findUniqueOrThrow({ where: { id: amountFix!.id } })).resolvedAt).toBeNull();

    expect(await resolve(amountFix!.id, "ACCEPT", "Promotional price agreed with the business")).toMatchObject({
      data: { resolution: "ACCEPTED" },
    });
    expect((await latestReconciliationSummary(stack.db))?.openDiscrepancies).toBe(1);
    const [currencyFix] = await byKind(again.id, "CURRENCY_MISMATCH");
    await resolve(currencyFix!.id, "ACCEPT", "Recorded in NZD by the old checkout");

    // Every discrepancy resolved: the run is clean and the alert is resolved; each fix is audited.
    const summary = await latestReconciliationSummary(stack.db);
    expect(summary).toMatchObject({ runId: again.id, clean: true, openDiscrepancies: 0, discrepancies: 6 });
    expect((await stack.db.alert.findUniqueOrThrow({ where: { fingerprint: "reconciliation.mismatch" } })).status).toBe(
      "RESOLVED",
    );
    const audit = await stack.db.auditEvent.findMany({ where: { action: "reconciliation.resolve" } });
    expect(audit).toHaveLength(6);
    expect(audit.every((event) => event.actorLabel === "olive@test.example")).toBe(true);

    // The evidence: CSV and JSON rows match the run.
    const csvResponse = await fetch(`${stack.api.url}/exports/reconciliation/${again.id}.csv`, {
      headers: { cookie: stack.viewerCookie },
    });
    expect(csvResponse.status).toBe(200);
    expect(csvResponse.headers.get("content-type")).toContain("text/csv");
    const lines = (await csvResponse.text()).trim().split("\r\n");
    const header = lines[0]!.split(",");
    const rows = lines
      .slice(1)
      .map((line) => Object.fromEntries(line.split(",").map((v, i) => [header[i] ?? "", v])) as Record<string, string>);
    const stored = await discrepanciesOf(again.id);
    const discrepancyRows = rows.filter((row) => row["record"] === "discrepancy");
    expect(
      discrepancyRows
        .map((row) => [row["kind"], row["stripe_charge_id"], row["resolution"], row["resolved_by"]])
        .sort(),
    ).toEqual(stored.map((d) => [d.kind, d.stripeChargeId, d.resolution, "olive@test.example"]).sort());
    expect(
      rows
        .filter((row) => row["record"] === "totals")
        .map((row) => [row["currency"], row["stripe_count"], row["db_count"]]),
    ).toEqual([
      ["aud", "9", "8"],
      ["nzd", "0", "1"],
    ]);
    const json = (await (
      await fetch(`${stack.api.url}/exports/reconciliation/${again.id}.json`, {
        headers: { cookie: stack.viewerCookie },
      })
    ).json()) as { run: { id: string }; stripeTotals: unknown; discrepancies: { discrepancy_id: string }[] };
    expect(json.run.id).toBe(again.id);
    expect(json.stripeTotals).toEqual(done.stripeTotals);
    expect(json.discrepancies.map((d) => d.discrepancy_id).sort()).toEqual(stored.map((d) => d.id).sort());
    expect((await fetch(`${stack.api.url}/exports/reconciliation/${again.id}.csv`)).status).toBe(401);
    expect(
      (
        await fetch(`${stack.api.url}/exports/reconciliation/${again.id}.csv`, {
          headers: { authorization: `Bearer ${stack.refundsToken}` },
        })
      ).status,
    ).toBe(403);
  });

  it("retries a page when Stripe answers 500 or 429 mid-run, not the whole run", async () => {
    const from = new Date(Math.floor((Date.now() - 60 * DAY) / 1000) * 1000);
    const to = new Date(from.getTime() + DAY);
    const business = await createBusiness(stack.db, regionId);
    // 450 charges (5 pages of 100), all recorded on our side too.
    const charges = stack.stripeSandbox.seedCharges(
      Array.from({ length: 450 }, (_, i) => ({
        amount: 2200,
        currency: "aud",
        created: Math.floor(from.getTime() / 1000) + 60 + i * 60,
        metadata: { business_id: business.id },
      })),
    );
    await stack.db.payment.createMany({
      data: charges.map((charge) => ({
        stripeChargeId: charge.id,
        businessId: business.id,
        amountCents: 2200,
        currency: "aud",
        status: "SUCCEEDED" as const,
        purchasedAt: new Date(charge.created * 1000),
      })),
    });

    const updates: { runId: string; status: string; chargesCompared: number }[] = [];
    const feed = bus.bus.subscribe("reconciliationRunUpdated");
    void (async () => {
      for await (const update of feed) updates.push(update);
    })();
    for (const mode of ["error500", "rateLimit429"] as const) {
      stack.stripeSandbox.clearRequests();
      // Slow pages, so the fault can be switched on after the first page and before the last.
      stack.stripeSandbox.faults.set({ slowMs: 150 });
      const run = await createReconciliationRun(deps, system, { from, to }, "MANUAL");
      const execution = executeReconciliationRun(deps, run.id);
      await expect
        .poll(() => stack.stripeSandbox.requests().filter((r) => r.path === "/v1/charges" && r.status === 200).length)
        .toBeGreaterThanOrEqual(1);
      // More failures than the SDK's own two retries: the run resumes after the last charge it read.
      stack.stripeSandbox.faults.set({ mode, count: 4, paths: ["/v1/charges"], methods: ["GET"] });
      const { run: done, resumedPages } = await execution;

      expect(done).toMatchObject({ status: "COMPLETED", chargesCompared: 450, discrepancyCount: 0 });
      expect(resumedPages).toBeGreaterThanOrEqual(1);
      // Only the run's own listings: the worker's Stripe health check lists charges too (limit=1, no period).
      const lists = stack.stripeSandbox
        .requests()
        .filter((r) => r.path === "/v1/charges" && r.query.includes("created"));
      expect(lists.filter((r) => r.fault === mode)).toHaveLength(4);
      // The first page was fetched once: the listing resumed where it stopped.
      expect(lists.filter((r) => r.status === 200 && !r.query.includes("starting_after"))).toHaveLength(1);
      expect(lists.filter((r) => r.status === 200)).toHaveLength(5);
      stack.stripeSandbox.faults.clear();
      // Subscribers saw the run progress while it was underway, then its result.
      await expect.poll(() => updates.filter((u) => u.runId === run.id).at(-1)?.status).toBe("COMPLETED");
      const progress = updates
        .filter((u) => u.runId === run.id && u.status === "RUNNING")
        .map((u) => u.chargesCompared);
      expect(progress.some((count) => count > 0 && count < 450)).toBe(true);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
    }
    await feed.return?.();
  });
});

describe("starting through the API", () => {
  it("runs in the worker for the last 7 days, leaves charges of the last minutes in flight, and refuses bad periods", async () => {
    const business = await createBusiness(stack.db, regionId);
    await createPaidPlacement(stack, business, new Date(Date.now() - 2 * DAY));
    // Charged a minute ago, webhook not here yet: not part of the period.
    stripeOnlyCharge(business.id, new Date(Date.now() - 60_000));

    const started = await stack.api.graphql<{
      startReconciliation: {
        __typename: string;
        data: { id: string; status: string; periodStart: string; periodEnd: string };
      };
    }>(START, {}, { cookie: stack.operatorCookie });
    expect(started.data?.startReconciliation).toMatchObject({
      __typename: "MutationStartReconciliationSuccess",
      data: { status: "RUNNING" },
    });
    const { id, periodStart, periodEnd } = started.data!.startReconciliation.data;
    expect(new Date(periodEnd).getTime() - new Date(periodStart).getTime()).toBe(7 * DAY);
    expect(Date.now() - new Date(periodEnd).getTime()).toBeGreaterThanOrEqual(10 * 60_000);

    type RunResult = {
      reconciliationRun: { status: string; clean: boolean; discrepancyCount: number; chargesCompared: number };
    };
    await expect
      .poll(
        async () =>
          (await stack.api.graphql<RunResult>(RUN, { id }, { cookie: stack.viewerCookie })).data?.reconciliationRun
            .status,
        { timeout: 20_000 },
      )
      .toBe("COMPLETED");
    const run = (await stack.api.graphql<RunResult>(RUN, { id }, { cookie: stack.viewerCookie })).data!
      .reconciliationRun;
    expect(run).toMatchObject({ clean: true, discrepancyCount: 0, chargesCompared: 1 });
    // The job records its run as finished just after the reconciliation commits: wait for it.
    await expect
      .poll(() => stack.db.jobRun.findFirst({ where: { jobName: "payment-reconciliation" } }))
      .toMatchObject({ status: "SUCCEEDED", trigger: "MANUAL" });

    const runsBefore = await stack.db.reconciliationRun.count();
    const ask = async (variables: Record<string, unknown>, cookie = stack.operatorCookie) =>
      (await stack.api.graphql<{ startReconciliation: Outcome }>(START, variables, { cookie })).data
        ?.startReconciliation;
    expect(await ask({ from: "2026-03-10T00:00:00Z", to: "2026-03-01T00:00:00Z" })).toMatchObject({
      __typename: "InvalidInputError",
      message: "The period must end after it starts",
    });
    expect(await ask({ from: "2024-01-01T00:00:00Z", to: "2025-06-01T00:00:00Z" })).toMatchObject({
      __typename: "InvalidInputError",
      message: "A period can cover at most a year (366 days)",
    });
    const viewer = await stack.api.graphql(START, {}, { cookie: stack.viewerCookie });
    expect(viewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // One run at a time.
    const underway = await createReconciliationRun(deps, system, {}, "MANUAL");
    expect(await ask({})).toMatchObject({ __typename: "ConflictError" });
    await executeReconciliationRun(deps, underway.id);
    expect(await stack.db.reconciliationRun.count()).toBe(runsBefore + 1);

    // Run now from the Jobs page (no input): a run for the last 7 days, recorded as the operator's.
    const olive = await stack.db.operator.findUniqueOrThrow({ where: { email: "olive@test.example" } });
    const queuedAt = new Date();
    await stack.worker!.queues.add("payment-reconciliation", { trigger: "MANUAL", triggeredById: olive.id });
    const fromJobsPage = async () =>
      stack.db.reconciliationRun.findFirst({ where: { startedAt: { gte: queuedAt }, status: "COMPLETED" } });
    await expect.poll(async () => (await fromJobsPage())?.status, { timeout: 20_000 }).toBe("COMPLETED");
    expect(await fromJobsPage()).toMatchObject({ trigger: "MANUAL", startedById: olive.id, discrepancyCount: 0 });
    expect(await stack.db.reconciliationRun.count()).toBe(runsBefore + 2);
  });

  it("a run left RUNNING by a killed worker is resumed by the next job, not skipped and left blocking starts", async () => {
    // What a worker SIGKILLed mid-run leaves: the run recorded RUNNING, nobody executing it (the
    // kill drill found the job's redelivery answering "skipped: already underway" for good).
    const from = new Date(Date.now() - 90 * DAY);
    const abandoned = await createReconciliationRun(
      deps,
      system,
      { from, to: new Date(from.getTime() + DAY) },
      "SCHEDULE",
    );
    const runsBefore = await stack.db.reconciliationRun.count();
    const job = await stack.worker!.queues.add("payment-reconciliation", { trigger: "SCHEDULE" });
    await expect
      .poll(async () => (await stack.db.reconciliationRun.findUnique({ where: { id: abandoned.id } }))?.status, {
        timeout: 20_000,
      })
      .toBe("COMPLETED");
    await expect
      .poll(
        async () =>
          (await stack.db.jobRun.findFirst({ where: { queueJobId: job.id, status: "SUCCEEDED" } }))?.summary ?? "",
        { timeout: 20_000 },
      )
      .toContain(`resumed run ${abandoned.id}`);
    expect(await stack.db.reconciliationRun.count()).toBe(runsBefore);
  });
});
