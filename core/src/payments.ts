// Payments come from Stripe, which is the source of truth for charges. A webhook is only a hint:
// it is verified, stored once by event id, and processed later by re-fetching the object.
//
//   POST /webhooks/stripe ─▶ receiveStripeWebhook: verify signature (5 min tolerance), insert
//                            StripeWebhookEvent by id (a duplicate is acknowledged and ignored)
//   job stripe-event      ─▶ processStripeEvent (stripeEvents.ts): charges.retrieve → syncCharge
//                            (payment + placement in one transaction, idempotent) → event PROCESSED
//
// Re-fetching makes out-of-order delivery converge: whichever event comes first, the charge as
// Stripe has it now decides the payment's state, and a later event finds nothing left to do.
// A payment's state only ever changes through advancePayment, which enforces the forward rank.
import type { Db, DbTx, Payment, PaymentStatus, Placement } from "@steward/db/client";
import type { SharedStore } from "./ports/sharedStore.ts";
import { type Actor, systemActor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { type AlertDeps, raiseAlert } from "./alerts.ts";
import type { CoreDeps } from "./deps.ts";
import { formatMoney } from "./email/format.ts";
import { DomainError } from "./errors.ts";
import { processStripeEventNow, processStripeEvents } from "./followUps.ts";
import { isUuid } from "./ids.ts";
import { placePurchase, releaseForRefund } from "./placements.ts";
import type { GatewayCharge, GatewayEvent, PaymentsGateway } from "./ports/payments.ts";
import { WEBHOOK_TOLERANCE_SECONDS } from "./stripe.ts";
import { type EnqueuePending, type PendingSweepOptions, sweepPendingPages } from "./sweeps.ts";
import { isStorableText, storableJson, storableText } from "./text.ts";
import { countDelivery, type RejectionKind, rejectionKindOf } from "./webhookDeliveries.ts";
import { z } from "zod";

/** JSON escapes of what PostgreSQL cannot store (NUL, a surrogate): such a body is parsed and escaped first. */
const UNSTORABLE_JSON_ESCAPE = /\\u0000|\\u[dD][89abAB]/;

/** Metadata a featured-placement charge carries (set by the marketplace's checkout). */
export const METADATA_BUSINESS = "business_id";
export const METADATA_REGION = "region_id";

/** An event that can never be processed (e.g. it names a business that does not exist). */
export class StripeEventUnprocessableError extends DomainError {
  readonly code = "STRIPE_EVENT_UNPROCESSABLE";
}

// ───────────────────────────── Receiving webhooks ─────────────────────────────

export type WebhookReceipt =
  | { kind: "rejected"; reason: string; rejection: RejectionKind }
  | { kind: "stored"; eventId: string; type: string }
  | { kind: "duplicate"; eventId: string; type: string; processed: boolean };

/** The SDK's verification: HMAC-SHA256 over "<t>.<raw body>", and t within 5 minutes of now. Throws why not. */
export function verifyStripeWebhook(
  stripe: PaymentsGateway,
  rawBody: Buffer | string,
  signature: string | null,
  secret: string,
): GatewayEvent {
  if (!signature) throw new Error("No Stripe-Signature header");
  const event = stripe.webhooks.constructEvent(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS);
  // The SDK only refuses old timestamps: a signature dated ahead would stay replayable for as long.
  const timestamps = [...signature.matchAll(/(?:^|,)\s*t=(\d+)/g)].map((match) => Number(match[1]));
  if (timestamps.some((timestamp) => timestamp > Date.now() / 1000 + WEBHOOK_TOLERANCE_SECONDS))
    throw new Error("Timestamp is in the future, outside the tolerance zone");
  return event;
}

/**
 * Verifies and stores one delivery. Only this: no Stripe call, no business logic, so the endpoint
 * answers fast. A rejected delivery is recorded in the audit log (for alerting) and nothing else.
 */
/** What the receiver relies on: an id, a type and a data object. */
const stripeEventShape = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  data: z.object({ object: z.object({}).passthrough() }),
});

export async function receiveStripeWebhook(
  { db, sql }: Pick<CoreDeps, "db" | "sql">,
  stripe: PaymentsGateway,
  delivery: { rawBody: Buffer; signature: string | null; secret: string },
  /** Where deliveries are counted (core/src/webhookDeliveries.ts); without it every rejection is audited. */
  counter?: { redis: SharedStore; prefix: string },
): Promise<WebhookReceipt> {
  let event: GatewayEvent;
  try {
    event = verifyStripeWebhook(stripe, delivery.rawBody, delivery.signature, delivery.secret);
    // Signed, yet not shaped like an event (a misconfigured sender): refused like a bad signature.
    if (!stripeEventShape.safeParse(event).success) throw new Error("The payload is not a Stripe event");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const kind = rejectionKindOf(reason, Boolean(delivery.signature));
    // One audit row per window (its first rejection), not one per post: a flood writes one row.
    const counted = counter ? await countDelivery(counter.redis, counter.prefix, kind).catch(() => null) : null;
    if (!counted || counted.firstRejectionOfWindow)
      await recordAudit(db, systemActor("stripe-webhook"), {
        action: "stripe.webhook_rejected",
        targetType: "StripeWebhook",
        // The parser's message can quote the body: NUL in it must not turn a 400 into a 500.
        reason: storableText(reason.slice(0, 500)),
        after: {
          kind,
          bytes: delivery.rawBody.length,
          signaturePresent: Boolean(delivery.signature),
          ...(counted
            ? {
                windowStart: counted.windowStart.toISOString(),
                note: "first rejection of this 5-minute window; the window's count is in steward_stripe_webhook_rejected_total and the webhooks health check",
              }
            : {}),
        },
      });
    return { kind: "rejected", reason, rejection: kind };
  }
  if (counter) await countDelivery(counter.redis, counter.prefix, "accepted").catch(() => undefined);
  const object = event.data.object as { id?: unknown };
  // Signed by Stripe, so never refused for its text: NUL or unpaired surrogates (which PostgreSQL
  // cannot store, in text or as jsonb escapes) are kept as visible escapes, and the event is stored
  // rather than retried for days. The common body has none and goes in as it came.
  const raw = delivery.rawBody.toString("utf8");
  const payload =
    UNSTORABLE_JSON_ESCAPE.test(raw) || !isStorableText(raw) ? JSON.stringify(storableJson(JSON.parse(raw))) : raw;
  const eventId = storableText(event.id);
  const objectId = typeof object.id === "string" ? storableText(object.id) : null;
  // One plain statement on pg: this runs for every delivery, and Prisma's createMany cost the
  // endpoint about half its CPU (issue 17). The body was verified above, so it is JSON.
  const inserted = await sql.rows(
    `INSERT INTO "StripeWebhookEvent" (id, type, "objectId", payload) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [eventId, storableText(event.type), objectId, payload],
  );
  if (inserted.length === 1) return { kind: "stored", eventId, type: event.type };
  const existing = await db.stripeWebhookEvent.findUnique({ where: { id: eventId }, select: { status: true } });
  return { kind: "duplicate", eventId, type: event.type, processed: existing?.status === "PROCESSED" };
}

/**
 * The webhook endpoint's work: verifies and stores the delivery (receiveStripeWebhook), then
 * queues its stripe-event job unless the event was already processed (deterministic job id: a
 * redelivery while the job is queued or done adds nothing). Not best effort: if the job cannot be
 * queued this throws, and the endpoint's 500 makes Stripe deliver it again.
 */
export async function acceptStripeWebhook(
  deps: Pick<CoreDeps, "db" | "sql" | "stripe" | "jobs">,
  delivery: { rawBody: Buffer; signature: string | null; secret: string },
  counter?: { redis: SharedStore; prefix: string },
): Promise<WebhookReceipt> {
  const receipt = await receiveStripeWebhook(deps, deps.stripe, delivery, counter);
  if (receipt.kind === "rejected" || (receipt.kind === "duplicate" && receipt.processed)) return receipt;
  await processStripeEventNow(deps, receipt.eventId);
  return receipt;
}

// ───────────────────────────── Syncing a charge ─────────────────────────────

/** Our status for a charge as Stripe has it now. */
export function paymentStatusOf(charge: Pick<GatewayCharge, "status" | "refunded" | "amount_refunded">): PaymentStatus {
  if (charge.status === "failed") return "FAILED";
  if (charge.status === "pending") return "PENDING";
  if (charge.refunded) return "REFUNDED";
  return charge.amount_refunded > 0 ? "PARTIALLY_REFUNDED" : "SUCCEEDED";
}

// A payment only moves forward: PENDING → SUCCEEDED/FAILED → PARTIALLY_REFUNDED → REFUNDED.
const RANK: Record<PaymentStatus, number> = { PENDING: 0, FAILED: 1, SUCCEEDED: 1, PARTIALLY_REFUNDED: 2, REFUNDED: 3 };

/** Whether our payment already says at least what `next` says (nothing to move). */
export function paymentReflects(
  payment: Pick<Payment, "status" | "refundedCents">,
  next: { status: PaymentStatus; refundedCents: number },
): boolean {
  return RANK[payment.status] >= RANK[next.status] && payment.refundedCents >= next.refundedCents;
}

/** Reads the payment under its row lock: what `advancePayment` needs, and how concurrent writers queue. */
export async function lockPayment(tx: DbTx, where: { id: string } | { stripeChargeId: string }): Promise<Payment> {
  if ("id" in where) await tx.$queryRaw`SELECT id FROM "Payment" WHERE id = ${where.id}::uuid FOR UPDATE`;
  else await tx.$queryRaw`SELECT id FROM "Payment" WHERE "stripeChargeId" = ${where.stripeChargeId} FOR UPDATE`;
  return tx.payment.findUniqueOrThrow({ where });
}

/**
 * The one way a recorded payment's state changes (the webhook's charge sync and a completed
 * refund both come here): forward only by RANK, and the refunded amount never shrinks, so a late
 * or replayed fact can never undo a newer one. `locked` was read by `lockPayment` in this
 * transaction. Audited when it moves; returns the payment as it now is.
 */
export async function advancePayment(
  tx: DbTx,
  actor: Actor,
  locked: Payment,
  next: { status: PaymentStatus; refundedCents: number },
): Promise<{ payment: Payment; changed: boolean }> {
  const status = RANK[next.status] > RANK[locked.status] ? next.status : locked.status;
  const refundedCents = Math.min(locked.amountCents, Math.max(locked.refundedCents, next.refundedCents));
  if (status === locked.status && refundedCents === locked.refundedCents) return { payment: locked, changed: false };
  const payment = await tx.payment.update({ where: { id: locked.id }, data: { status, refundedCents } });
  await recordAudit(tx, actor, {
    action: "payment.status_synced",
    targetType: "Payment",
    targetId: payment.id,
    before: { status: locked.status, refundedCents: locked.refundedCents },
    after: { status, refundedCents, stripeChargeId: locked.stripeChargeId },
  });
  return { payment, changed: true };
}

/** Why a charge was recorded (or kept) without buying a placement. */
export type ChargeHold =
  { reason: "BUSINESS_UNKNOWN"; businessRef: string; detail: string } | { reason: "PRICE_MISMATCH"; detail: string };

export interface ChargeSync {
  payment: Payment | null;
  created: boolean;
  statusChanged: boolean;
  placement: Placement | null;
  /** Set while the charge waits: for its business (no payment yet) or for an operator's review. */
  hold: ChargeHold | null;
  /** What happened, for the job summary. */
  note: string;
}

/** The business a charge names: the marketplace's own id (catalog externalId) first, else ours. */
async function chargeBusiness(tx: DbTx, ref: string): Promise<{ id: string; regionId: string } | null> {
  const select = { id: true, regionId: true } as const;
  return (
    (await tx.business.findUnique({ where: { externalId: ref }, select })) ??
    (isUuid(ref) ? await tx.business.findUnique({ where: { id: ref }, select }) : null)
  );
}

/** The hold of a recorded payment still waiting for an operator (null once accepted or refunded). */
export function openHold(payment: Pick<Payment, "holdReason" | "holdResolution" | "holdDetail">): ChargeHold | null {
  if (payment.holdReason !== "PRICE_MISMATCH" || payment.holdResolution !== null) return null;
  return { reason: "PRICE_MISMATCH", detail: payment.holdDetail ?? "" };
}

/**
 * Makes our payment (and its placement) match a charge fetched from Stripe, inside the caller's
 * transaction. Idempotent: the unique charge id and placePurchase's per-payment idempotency make
 * a replay a no-op. Charges without placement metadata are not ours to record.
 *
 * A charge naming a business the catalog does not have yet records nothing and returns a
 * BUSINESS_UNKNOWN hold (the caller keeps the event HELD until the business arrives). A charge
 * whose amount or currency is not its region's placement price is recorded with a PRICE_MISMATCH
 * hold and buys no placement until an operator accepts it (holds.ts).
 */
export async function syncCharge(tx: DbTx, charge: GatewayCharge, actor: Actor): Promise<ChargeSync> {
  const businessRef = charge.metadata?.[METADATA_BUSINESS]?.trim();
  if (!businessRef) {
    return {
      payment: null,
      created: false,
      statusChanged: false,
      placement: null,
      hold: null,
      note: "not a placement charge",
    };
  }
  if (businessRef.length > 200)
    throw new StripeEventUnprocessableError(`Charge ${charge.id}: business_id is longer than 200 characters`);
  const business = await chargeBusiness(tx, businessRef);
  if (!business) {
    const detail = `Charge ${charge.id} names business ${businessRef}, which is not in the catalog yet; it is processed when the business arrives`;
    return {
      payment: null,
      created: false,
      statusChanged: false,
      placement: null,
      hold: { reason: "BUSINESS_UNKNOWN", businessRef, detail },
      note: `held: business ${businessRef} is not in the catalog yet`,
    };
  }
  const regionMeta = charge.metadata?.[METADATA_REGION];
  let regionId = business.regionId;
  if (regionMeta) {
    const region =
      (isUuid(regionMeta) ? await tx.region.findUnique({ where: { id: regionMeta }, select: { id: true } }) : null) ??
      (await tx.region.findUnique({ where: { externalId: regionMeta }, select: { id: true } })) ??
      (await tx.region.findUnique({ where: { slug: regionMeta }, select: { id: true } }));
    if (!region) throw new StripeEventUnprocessableError(`Charge ${charge.id}: region ${regionMeta} does not exist`);
    regionId = region.id;
  }
  const price = await tx.region.findUniqueOrThrow({
    where: { id: regionId },
    select: { name: true, placementPriceCents: true, placementCurrency: true },
  });
  const currency = charge.currency.toLowerCase();
  const priced = charge.amount === price.placementPriceCents && currency === price.placementCurrency.toLowerCase();
  const purchasedAt = new Date(charge.created * 1000);

  const status = paymentStatusOf(charge);
  const inserted = await tx.payment.createMany({
    data: [
      {
        stripeChargeId: charge.id,
        businessId: business.id,
        amountCents: charge.amount,
        refundedCents: charge.amount_refunded,
        currency,
        status,
        purchasedAt,
        ...(priced
          ? {}
          : {
              holdReason: "PRICE_MISMATCH" as const,
              holdDetail: `Paid ${formatMoney(charge.amount, currency)}; a placement in ${price.name} costs ${formatMoney(price.placementPriceCents, price.placementCurrency)}`,
              heldAt: new Date(),
              heldRegionId: regionId,
            }),
      },
    ],
    skipDuplicates: true,
  });
  // Concurrent events for the same charge queue up here.
  let payment = await lockPayment(tx, { stripeChargeId: charge.id });
  const created = inserted.count === 1;
  let statusChanged = false;
  if (!created) {
    const advanced = await advancePayment(tx, actor, payment, { status, refundedCents: charge.amount_refunded });
    payment = advanced.payment;
    statusChanged = advanced.changed;
  }

  // A held payment buys nothing until an operator accepts it (then with the region it was for).
  const mayPlace = payment.holdReason === null || payment.holdResolution === "ACCEPTED";
  let placement: Placement | null = null;
  if ((payment.status === "SUCCEEDED" || payment.status === "PARTIALLY_REFUNDED") && mayPlace) {
    placement = await placePurchase(tx, {
      businessId: payment.businessId,
      regionId: payment.heldRegionId ?? regionId,
      paymentId: payment.id,
      purchasedAt: payment.purchasedAt,
    });
  } else if (payment.status === "REFUNDED") {
    placement = (await releaseForRefund(tx, payment.id)).placement;
  }
  const hold = payment.status === "SUCCEEDED" ? openHold(payment) : null;
  if (created) {
    await recordAudit(tx, actor, {
      action: hold ? "payment.held" : "payment.recorded",
      targetType: "Payment",
      targetId: payment.id,
      after: {
        stripeChargeId: charge.id,
        amountCents: payment.amountCents,
        currency: payment.currency,
        status: payment.status,
        placementId: placement?.id ?? null,
        placementStatus: placement?.status ?? null,
        holdReason: payment.holdReason,
      },
      ...(hold ? { reason: hold.detail } : {}),
    });
  }
  const note = created
    ? `recorded payment ${payment.status.toLowerCase()}${placement ? `, placement ${placement.status.toLowerCase()}` : ""}${hold ? `, held for review (${hold.reason})` : ""}`
    : statusChanged
      ? `payment now ${payment.status.toLowerCase()}`
      : "payment already up to date";
  return { payment, created, statusChanged, placement, hold, note };
}

/** One alert per held charge: raised while it waits, resolved once it is dealt with. */
export function heldChargeFingerprint(stripeChargeId: string): string {
  return `charge-held:${stripeChargeId}`;
}

export const HELD_CHARGE_RULE = "payments.charge_held";

/** Raises (or updates) the held charge's alert; outside any transaction (raiseAlert has its own). */
export async function alertHeldCharge(deps: AlertDeps, stripeChargeId: string, hold: ChargeHold): Promise<void> {
  await raiseAlert(deps, {
    fingerprint: heldChargeFingerprint(stripeChargeId),
    ruleKey: HELD_CHARGE_RULE,
    severity: "YELLOW",
    title:
      hold.reason === "PRICE_MISMATCH"
        ? `Charge ${stripeChargeId} held: price mismatch`
        : `Charge ${stripeChargeId} held: business not in the catalog`,
    detail:
      hold.reason === "PRICE_MISMATCH"
        ? `${hold.detail}. No placement was bought: accept or refund it on the Placements page.`
        : hold.detail,
    labels: { stripeChargeId, reason: hold.reason },
  });
}

// ───────────────────────────── Sweeping events Redis lost ─────────────────────────────

/** The webhook enqueues right after its insert; younger events are left to that enqueue. */
export const STRIPE_EVENT_SWEEP_GRACE_MS = 60_000;

/**
 * Hands back to the queue every stored event not yet processed: RECEIVED (never run, or running)
 * and FAILED with attempts left (a retry was due). `enqueue` must use the webhook's job id
 * (`stripe-event-<eventId>`), so an event whose job is still queued or running is not doubled, and
 * processing is idempotent anyway (one payment per charge, one placement per payment). An event
 * that failed `maxAttempts` times stays FAILED for an operator to look at.
 */
export async function sweepPendingStripeEvents(
  db: Db,
  enqueue: EnqueuePending,
  options: PendingSweepOptions & { maxAttempts: number },
): Promise<number> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.olderThanMs);
  return sweepPendingPages(
    async (after, take) => {
      const rows = await db.stripeWebhookEvent.findMany({
        where: {
          receivedAt: { lt: cutoff },
          AND: [
            { OR: [{ status: "RECEIVED" }, { status: "FAILED", attempts: { lt: options.maxAttempts } }] },
            after ? { OR: [{ receivedAt: { gt: after.at } }, { receivedAt: after.at, id: { gt: after.id } }] } : {},
          ],
        },
        orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
        select: { id: true, receivedAt: true },
        take,
      });
      return rows.map((row) => ({ id: row.id, at: row.receivedAt }));
    },
    enqueue,
    options.pageSize,
  );
}

/**
 * The stripe-event-sweep job: unprocessed events go back to stripe-event; one once held for its
 * business runs under the id its release used. `maxAttempts` is the queue's attempts per job.
 */
export function requeuePendingStripeEvents(
  deps: Pick<CoreDeps, "db" | "jobs" | "clock">,
  maxAttempts: number,
): Promise<number> {
  const { db } = deps;
  return sweepPendingStripeEvents(
    db,
    async (ids) => {
      const released = new Set(
        (
          await db.stripeWebhookEvent.findMany({
            where: { id: { in: [...ids] }, heldReason: { not: null } },
            select: { id: true },
          })
        ).map((event) => event.id),
      );
      await processStripeEvents(
        deps,
        ids.map((eventId) => ({ eventId, released: released.has(eventId) })),
      );
    },
    { olderThanMs: STRIPE_EVENT_SWEEP_GRACE_MS, maxAttempts, now: deps.clock() },
  );
}
