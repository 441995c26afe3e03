// Data the drills need, recorded the way the product records it: a charge at the Stripe sandbox
// with its payment and placement (as the webhook path does), refund requests claimed for refund (as
// approveRefund does before calling Stripe), outbox emails (as a decision's transaction does), a
// Stripe event stored by the webhook endpoint and not yet processed.
import { enqueueEmail } from "@steward/core/outbox";
import { placePurchase } from "@steward/core/placements";
import { refundIdempotencyKey } from "@steward/core/refunds";
import type { Db, Payment, Prisma } from "@steward/db/client";
import type { StripeSandbox } from "../../sandbox/src/stripe/server.ts";

let counter = 0;
const tag = `${process.pid}-${Date.now().toString(36)}`;

export async function createRegion(db: Db, slots = 5): Promise<{ id: string }> {
  counter++;
  return db.region.create({
    data: { slug: `drill-${tag}-${counter}`, name: `Drill region ${counter}`, featuredSlots: slots },
    select: { id: true },
  });
}

export async function createBusiness(db: Db, regionId: string): Promise<{ id: string; email: string }> {
  counter++;
  return db.business.create({
    data: { regionId, name: `Drill Dog School ${counter}`, email: `drill${counter}-${tag}@trainers.example` },
    select: { id: true, email: true },
  });
}

/**
 * A placement charge at the Stripe sandbox and the matching payment, with its placement when the
 * payment succeeded (as the webhook path records them).
 */
export async function createPaidPlacement(
  db: Db,
  stripe: StripeSandbox,
  business: { id: string },
  purchasedAt: Date,
  options: { amount?: number; currency?: string; status?: "SUCCEEDED" | "FAILED" } = {},
): Promise<Payment> {
  const row = await db.business.findUniqueOrThrow({ where: { id: business.id } });
  const [charge] = stripe.seedCharges([
    {
      amount: options.amount ?? 2200,
      currency: options.currency ?? "aud",
      created: Math.floor(purchasedAt.getTime() / 1000),
      metadata: { business_id: row.id },
      status: options.status === "FAILED" ? "failed" : "succeeded",
    },
  ]);
  if (!charge) throw new Error("sandbox returned no charge");
  return db.$transaction(async (tx) => {
    const payment = await tx.payment.create({
      data: {
        stripeChargeId: charge.id,
        businessId: row.id,
        amountCents: charge.amount,
        currency: charge.currency,
        status: options.status ?? "SUCCEEDED",
        purchasedAt,
      },
    });
    if (payment.status === "SUCCEEDED")
      await placePurchase(tx, { businessId: row.id, regionId: row.regionId, paymentId: payment.id, purchasedAt });
    return payment;
  });
}

/**
 * A placement charge at the sandbox with its Stripe event stored as POST /webhooks/stripe stores it
 * (RECEIVED, not yet processed), `receivedAgoMs` in the past (past the event sweep's grace).
 */
export async function receivedStripeEvent(
  db: Db,
  stripe: StripeSandbox,
  business: { id: string },
  receivedAgoMs = 0,
): Promise<{ eventId: string; chargeId: string }> {
  const [charge] = stripe.seedCharges(
    [{ amount: 2200, currency: "aud", metadata: { business_id: business.id }, status: "succeeded" }],
    { emitEvents: true },
  );
  if (!charge) throw new Error("sandbox returned no charge");
  const event = stripe.state.events.values().find((candidate) => candidate.data.object.id === charge.id);
  if (!event) throw new Error(`sandbox emitted no event for ${charge.id}`);
  await db.stripeWebhookEvent.create({
    data: {
      id: event.id,
      type: event.type,
      objectId: charge.id,
      payload: JSON.parse(JSON.stringify(event)) as Prisma.InputJsonValue,
      receivedAt: new Date(Date.now() - receivedAgoMs),
    },
  });
  return { eventId: event.id, chargeId: charge.id };
}

/**
 * A refund request an operator approved: claimed (PROCESSING) with its idempotency key, Stripe
 * not yet confirmed. `decidedAgoMs` puts the approval in the past (past the recovery sweep's grace).
 */
export async function claimedRefund(
  db: Db,
  stripe: StripeSandbox,
  regionId: string,
  decidedAgoMs = 0,
): Promise<{ requestId: string; payment: Payment; email: string }> {
  const business = await createBusiness(db, regionId);
  const payment = await createPaidPlacement(db, stripe, business, new Date(Date.now() - 3_600_000));
  const request = await db.refundRequest.create({
    data: {
      paymentId: payment.id,
      businessId: business.id,
      reason: "Drill: booked the wrong region",
      requestedBy: "SYSTEM:drill",
      idempotencyKey: `refund-request-new-${payment.id}`,
      status: "PROCESSING",
      decidedAt: new Date(Date.now() - decidedAgoMs),
    },
  });
  await db.refundRequest.update({
    where: { id: request.id },
    data: { idempotencyKey: refundIdempotencyKey(request.id) },
  });
  return { requestId: request.id, payment, email: business.email };
}

/** Outbox emails, each with its own dedup key, as a decision's transaction enqueues them. */
export async function enqueueEmails(db: Db, count: number, label: string): Promise<string[]> {
  const keys: string[] = [];
  await db.$transaction(async (tx) => {
    for (let index = 0; index < count; index++) {
      counter++;
      const dedupKey = `drill-${label}-${tag}-${counter}`;
      await enqueueEmail(tx, {
        kind: "email.drill",
        dedupKey,
        email: {
          to: `owner${counter}-${tag}@trainers.example`,
          subject: `Drill message ${counter}`,
          text: `Drill ${label} message ${counter}`,
          html: `<p>Drill ${label} message ${counter}</p>`,
        },
      });
      keys.push(dedupKey);
    }
  });
  return keys;
}
