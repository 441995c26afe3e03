// Stripe webhooks end to end: the Stripe sandbox signs and delivers events to the real API, a real
// worker processes them, re-fetching the charge when the event says something new. Forged, stale
// and future-dated signatures are rejected; duplicates create one payment; out-of-order delivery
// converges; a refund closes the refund request it answers, also one made in Stripe's dashboard.
import type { EventBus } from "@steward/core/ports/events";
import { processStripeEvent } from "@steward/core/stripeEvents";
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { claimedRefund } from "../../bench/drills/fixtures.ts";
import {
  createBusiness,
  createPaidPlacement,
  createRegion,
  HOUR,
  type PaymentsStack,
  startPaymentsStack,
  WEBHOOK_SECRET,
} from "./payments-stack.ts";

let stack: PaymentsStack;
let regionId: string;

function signed(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
  });
}

async function post(payload: string, signature: string | null): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.api.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
    body: payload,
  });
  return { status: response.status, body: await response.json() };
}

async function paymentFor(chargeId: string) {
  return stack.db.payment.findUnique({ where: { stripeChargeId: chargeId }, include: { placement: true } });
}

async function processed(eventIds: string[]): Promise<void> {
  await expect
    .poll(async () => stack.db.stripeWebhookEvent.count({ where: { id: { in: eventIds }, status: "PROCESSED" } }), {
      timeout: 20_000,
      interval: 100,
    })
    .toBe(eventIds.length);
}

const eventsFor = (chargeId: string) =>
  stack.stripeSandbox.state.events
    .values()
    .filter(
      (event) =>
        event.data.object.id === chargeId || ("charge" in event.data.object && event.data.object.charge === chargeId),
    );

beforeAll(async () => {
  stack = await startPaymentsStack({ worker: true, webhooks: true });
  regionId = (await createRegion(stack.db, 1)).id;
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.stripeSandbox.faults.clear();
  stack.stripeSandbox.webhooks.reset();
});

describe("receiving", () => {
  it("records a succeeded placement charge as a payment with an active placement (then queued when full)", async () => {
    const first = await createBusiness(stack.db, regionId);
    const second = await createBusiness(stack.db, regionId);
    const charge = await stack.stripe.charges.create({
      amount: 2200,
      currency: "aud",
      source: "tok_visa",
      metadata: { business_id: first.id },
    });
    await stack.stripeSandbox.waitForWebhooks();
    await processed(eventsFor(charge.id).map((event) => event.id));
    const payment = await paymentFor(charge.id);
    expect(payment).toMatchObject({
      businessId: first.id,
      amountCents: 2200,
      currency: "aud",
      status: "SUCCEEDED",
      purchasedAt: new Date(charge.created * 1000),
    });
    expect(payment?.placement?.status).toBe("ACTIVE");

    const later = await stack.stripe.charges.create({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: second.id },
    });
    await stack.stripeSandbox.waitForWebhooks();
    await processed(eventsFor(later.id).map((event) => event.id));
    expect((await paymentFor(later.id))?.placement?.status).toBe("QUEUED");

    const event = eventsFor(charge.id)[0]!;
    const row = await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(row).toMatchObject({ type: "charge.succeeded", objectId: charge.id, attempts: 1, lastError: null });
    expect(await stack.db.auditEvent.count({ where: { action: "stripe.webhook_processed", targetId: event.id } })).toBe(
      1,
    );
    expect(
      await stack.db.jobRun.count({ where: { queueJobId: `stripe-event-${event.id}`, status: "SUCCEEDED" } }),
    ).toBe(1);
  });

  it("answers fast and does the work in the job", async () => {
    const business = await createBusiness(stack.db, regionId);
    stack.stripeSandbox.configureWebhooks({ url: null });
    const charge = stack.stripeSandbox.createCharge({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: business.id },
    });
    stack.stripeSandbox.configureWebhooks({ url: `${stack.api.url}/webhooks/stripe` });
    const event = eventsFor(charge.id)[0]!;
    const payload = JSON.stringify(event);
    const started = performance.now();
    const response = await post(payload, signed(payload));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(response).toEqual({ status: 200, body: { received: true } });
    await processed([event.id]);
    expect((await paymentFor(charge.id))?.status).toBe("SUCCEEDED");
  });

  it("acknowledges and ignores event types it does not handle", async () => {
    const payload = JSON.stringify({
      id: `evt_unknown_${Date.now()}`,
      object: "event",
      type: "customer.created",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: "cus_123", object: "customer" } },
    });
    const response = await post(payload, signed(payload));
    expect(response.status).toBe(200);
    const id = (JSON.parse(payload) as { id: string }).id;
    await processed([id]);
    const audit = await stack.db.auditEvent.findFirstOrThrow({
      where: { action: "stripe.webhook_processed", targetId: id },
    });
    expect(audit.after).toMatchObject({
      type: "customer.created",
      outcome: "ignored (customer.created is not handled)",
    });
  });
});

describe("rejecting", () => {
  it.each([
    ["a forged signature", (payload: string) => signed(payload, { secret: "whsec_attacker" }), /No signatures found/],
    [
      "a stale signature (10 minutes old)",
      (payload: string) => signed(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
      /Timestamp outside the tolerance zone/,
    ],
    ["a tampered body", (payload: string) => signed(payload.replace("2200", "1")), /No signatures found/],
    ["no signature at all", () => null, /No Stripe-Signature header/],
    [
      "a signature dated 10 minutes ahead",
      (payload: string) => signed(payload, { timestamp: Math.floor(Date.now() / 1000) + 600 }),
      /Timestamp is in the future/,
    ],
  ] as const)("refuses %s with 400, says why, and stores nothing", async (_label, sign, reason) => {
    const id = `evt_forged_${Date.now()}_${Math.random().toString(36).slice(2)}`;
    const payload = JSON.stringify({
      id,
      object: "event",
      type: "charge.succeeded",
      data: { object: { id: "ch_forged", object: "charge", amount: 2200 } },
    });
    const response = await post(payload, sign(payload));
    expect(response.status).toBe(400);
    expect((response.body as { error: string }).error).toMatch(reason);
    expect(await stack.db.stripeWebhookEvent.count({ where: { id } })).toBe(0);
    // Audited once per window (tests/integration/webhook-endpoint.test.ts), by the system actor.
    const rejected = await stack.db.auditEvent.findMany({ where: { action: "stripe.webhook_rejected" } });
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(rejected.every((event) => event.actorLabel === "system:stripe-webhook")).toBe(true);
  });
});

describe("duplicates and order", () => {
  it("creates one payment from a duplicated delivery and a manual resend", async () => {
    const business = await createBusiness(stack.db, regionId);
    stack.stripeSandbox.webhooks.setFaults({ duplicate: 1 });
    const charge = await stack.stripe.charges.create({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: business.id },
    });
    await stack.stripeSandbox.waitForWebhooks();
    const event = eventsFor(charge.id)[0]!;
    await processed([event.id]);
    expect(stack.stripeSandbox.resendEvent(event.id)).toBe(true);
    await stack.stripeSandbox.waitForWebhooks();
    const deliveries = stack.stripeSandbox.webhooks.deliveries().filter((d) => d.eventId === event.id);
    expect(deliveries.map((d) => [d.reason, d.status])).toEqual([
      ["event", 200],
      ["duplicate", 200],
      ["resend", 200],
    ]);
    expect(await stack.db.payment.count({ where: { stripeChargeId: charge.id } })).toBe(1);
    expect(await stack.db.placement.count({ where: { payment: { stripeChargeId: charge.id } } })).toBe(1);
    expect(await stack.db.stripeWebhookEvent.count({ where: { id: event.id } })).toBe(1);
    expect(
      await stack.db.auditEvent.count({
        where: { action: "payment.recorded", after: { path: ["stripeChargeId"], equals: charge.id } },
      }),
    ).toBe(1);
  });

  it("converges when charge.refunded arrives before charge.succeeded", async () => {
    const business = await createBusiness(stack.db, regionId);
    // Hold charge.succeeded back: it is delivered after the refund's events.
    stack.stripeSandbox.webhooks.setFaults({ outOfOrder: 1, holdMs: 5_000 });
    const charge = await stack.stripe.charges.create({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: business.id },
    });
    await stack.stripe.refunds.create({ charge: charge.id });
    await stack.stripeSandbox.waitForWebhooks();
    const events = eventsFor(charge.id);
    expect(events.map((event) => event.type)).toEqual(["charge.succeeded", "charge.refunded", "refund.created"]);
    const order = stack.stripeSandbox.webhooks
      .deliveries()
      .filter((d) => events.some((event) => event.id === d.eventId))
      .map((d) => d.type);
    expect(order.indexOf("charge.succeeded")).toBeGreaterThan(order.indexOf("charge.refunded"));
    await processed(events.map((event) => event.id));
    const payment = await paymentFor(charge.id);
    expect(payment).toMatchObject({ status: "REFUNDED", refundedCents: 2200 });
    // Refunded before we ever saw it succeed: it never took a slot.
    expect(payment?.placement).toBeNull();
  });

  it("a refund made directly in Stripe frees the slot and the queue advances", async () => {
    const region = await createRegion(stack.db, 1);
    const charges = [];
    for (const business of [await createBusiness(stack.db, region.id), await createBusiness(stack.db, region.id)]) {
      charges.push(
        await stack.stripe.charges.create({ amount: 2200, currency: "aud", metadata: { business_id: business.id } }),
      );
    }
    await stack.stripeSandbox.waitForWebhooks();
    await processed(charges.flatMap((charge) => eventsFor(charge.id)).map((event) => event.id));
    // Events are processed concurrently: whichever purchase was recorded first holds the one slot.
    const statuses = await Promise.all(charges.map(async (charge) => (await paymentFor(charge.id))?.placement?.status));
    expect([...statuses].sort()).toEqual(["ACTIVE", "QUEUED"]);
    const holder = charges[statuses.indexOf("ACTIVE")]!;
    const waiting = charges[statuses.indexOf("QUEUED")]!;
    await stack.stripe.refunds.create({ charge: holder.id });
    await stack.stripeSandbox.waitForWebhooks();
    await processed(eventsFor(holder.id).map((event) => event.id));
    expect(await paymentFor(holder.id)).toMatchObject({ status: "REFUNDED", placement: { status: "REFUNDED" } });
    expect((await paymentFor(waiting.id))?.placement?.status).toBe("ACTIVE");
  });
});

describe("refunds and their requests", () => {
  /** A recorded payment (with its placement) and an open refund request for it. */
  async function openRequest() {
    const business = await createBusiness(stack.db, (await createRegion(stack.db, 5)).id);
    const payment = await createPaidPlacement(stack, business, new Date(Date.now() - 5 * HOUR));
    const asked = await stack.api.graphql<{ requestRefund: { __typename: string } }>(
      `mutation ($charge: String!) { requestRefund(stripeChargeId: $charge, reason: "Booked twice") { __typename } }`,
      { charge: payment.stripeChargeId },
      { bearer: stack.refundsToken },
    );
    expect(asked.data?.requestRefund.__typename).toBe("MutationRequestRefundSuccess");
    const request = await stack.db.refundRequest.findFirstOrThrow({ where: { paymentId: payment.id } });
    return { payment, request, business };
  }

  const chargeReads = (chargeId: string) =>
    stack.stripeSandbox.requests().filter((r) => r.method === "GET" && r.path === `/v1/charges/${chargeId}`).length;

  it("a full refund made in Stripe's own dashboard closes the charge's open request, audited and emailed", async () => {
    const { payment, request, business } = await openRequest();
    // The dashboard: a refund without our metadata or idempotency key.
    const refund = await stack.stripe.refunds.create({ charge: payment.stripeChargeId });
    await stack.stripeSandbox.waitForWebhooks();
    await processed(eventsFor(payment.stripeChargeId).map((event) => event.id));
    expect(await stack.db.refundRequest.findUniqueOrThrow({ where: { id: request.id } })).toMatchObject({
      status: "APPROVED",
      stripeRefundId: refund.id,
      decidedById: null,
    });
    expect(await paymentFor(payment.stripeChargeId)).toMatchObject({
      status: "REFUNDED",
      refundedCents: 2200,
      placement: { status: "REFUNDED" },
    });
    const audit = await stack.db.auditEvent.findFirstOrThrow({
      where: { targetId: request.id, action: "refund.completed_in_stripe" },
    });
    expect(audit).toMatchObject({
      actorLabel: "system:stripe-event",
      reason: "Refunded in Stripe's dashboard, not through Steward",
    });
    const email = await stack.db.outboxMessage.findUniqueOrThrow({
      where: { dedupKey: `refund-approved-${request.id}` },
    });
    expect(email.payload).toMatchObject({ to: business.email });
    // Two events (charge.refunded, refund.created); each reads the charge at most once.
    expect(chargeReads(payment.stripeChargeId)).toBeLessThanOrEqual(2);
    expect(stack.stripeSandbox.requests().filter((r) => r.path.startsWith("/v1/refunds/"))).toHaveLength(0);
  });

  it("a partial refund in the dashboard closes nothing: the payment is partially refunded, the request stays open", async () => {
    const { payment, request } = await openRequest();
    await stack.stripe.refunds.create({ charge: payment.stripeChargeId, amount: 500 });
    await stack.stripeSandbox.waitForWebhooks();
    await processed(eventsFor(payment.stripeChargeId).map((event) => event.id));
    expect(await paymentFor(payment.stripeChargeId)).toMatchObject({
      status: "PARTIALLY_REFUNDED",
      refundedCents: 500,
    });
    expect((await stack.db.refundRequest.findUniqueOrThrow({ where: { id: request.id } })).status).toBe("PENDING");
  });

  it("our own refund's webhook closes its request when the job has not (it died after the Stripe call)", async () => {
    const { requestId, payment } = await claimedRefund(stack.db, stack.stripeSandbox, regionId);
    const refund = await stack.stripe.refunds.create(
      { charge: payment.stripeChargeId, amount: 2200, metadata: { refund_request_id: requestId } },
      { idempotencyKey: `refund-request-${requestId}` },
    );
    await stack.stripeSandbox.waitForWebhooks();
    await processed(eventsFor(payment.stripeChargeId).map((event) => event.id));
    expect(await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } })).toMatchObject({
      status: "APPROVED",
      stripeRefundId: refund.id,
    });
    expect(await stack.db.auditEvent.count({ where: { targetId: requestId, action: "refund.completed" } })).toBe(1);
    expect(await paymentFor(payment.stripeChargeId)).toMatchObject({
      status: "REFUNDED",
      placement: { status: "REFUNDED" },
    });
  });

  it("events a payment already reflects are processed without asking Stripe", async () => {
    const { payment } = await openRequest();
    await stack.stripe.refunds.create({ charge: payment.stripeChargeId });
    await stack.stripeSandbox.waitForWebhooks();
    const events = eventsFor(payment.stripeChargeId);
    await processed(events.map((event) => event.id));
    const reads = chargeReads(payment.stripeChargeId);
    // Processed again (as after a lost acknowledgement): our state already says so, nothing is read.
    await stack.db.stripeWebhookEvent.updateMany({
      where: { id: { in: events.map((event) => event.id) } },
      data: { status: "RECEIVED" },
    });
    const deps = { ...stack.api.deps, events: { publish: () => undefined } as unknown as EventBus };
    for (const event of events)
      expect((await processStripeEvent(deps, event.id)).summary).toMatch(/already up to date \(no Stripe read\)$/);
    expect(chargeReads(payment.stripeChargeId)).toBe(reads);
  });
});

describe("failures", () => {
  it("retries when Stripe cannot be reached while processing, counting attempts and the last error", async () => {
    const business = await createBusiness(stack.db, regionId);
    // Every SDK attempt of the first job attempt fails (3 requests); the job's retry then succeeds.
    stack.stripeSandbox.faults.set({ mode: "error500", count: 3, paths: ["/v1/charges/"], methods: ["GET"] });
    const charge = await stack.stripe.charges.create({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: business.id },
    });
    await stack.stripeSandbox.waitForWebhooks();
    const event = eventsFor(charge.id)[0]!;
    await processed([event.id]);
    const row = await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(row.attempts).toBe(2);
    expect(row.lastError).toBeNull();
    // The job records its run as finished just after its transaction commits: wait for it.
    const runsOf = () =>
      stack.db.jobRun.findMany({ where: { queueJobId: `stripe-event-${event.id}` }, orderBy: { attempt: "asc" } });
    await expect.poll(async () => (await runsOf()).map((run) => run.status)).toEqual(["FAILED", "SUCCEEDED"]);
    const runs = await runsOf();
    expect(runs[0]?.error).toMatch(/unknown error occurred/);
    expect((await paymentFor(charge.id))?.status).toBe("SUCCEEDED");
  });

  it("holds an event naming a business not in the catalog yet, without retries or a payment", async () => {
    const charge = await stack.stripe.charges.create({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: "0190f0c0-0000-7000-8000-000000000000" },
    });
    await stack.stripeSandbox.waitForWebhooks();
    const event = eventsFor(charge.id)[0]!;
    await expect
      .poll(async () => (await stack.db.stripeWebhookEvent.findUnique({ where: { id: event.id } }))?.status, {
        timeout: 15_000,
      })
      .toBe("HELD");
    const row = await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(row).toMatchObject({
      heldReason: "BUSINESS_UNKNOWN",
      heldBusinessRef: "0190f0c0-0000-7000-8000-000000000000",
    });
    expect(row.lastError).toMatch(/business 0190f0c0-0000-7000-8000-000000000000, which is not in the catalog yet/);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: event.id } })).attempts).toBe(1);
    expect(await paymentFor(charge.id)).toBeNull();
  });

  it("ignores charges that are not featured-placement purchases", async () => {
    const charge = await stack.stripe.charges.create({ amount: 5000, currency: "aud", description: "Something else" });
    await stack.stripeSandbox.waitForWebhooks();
    await processed(eventsFor(charge.id).map((event) => event.id));
    expect(await paymentFor(charge.id)).toBeNull();
  });
});
