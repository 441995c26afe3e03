// Processing one stored Stripe event (the stripe-event job). The webhook is a hint: the event was
// verified and stored by payments.ts; here it is turned into our state.
//
//   1. What the event says: the charge or refund it carries (signed by Stripe, so trusted as a
//      snapshot of that moment).
//   2. Nothing new? Our payment already says at least that much, and no refund request waits for
//      this refund: the event is done without asking Stripe anything. (A later change at Stripe
//      comes with its own event; reconciliation catches a lost one.)
//      A charge event saying "refunded" while our refund is in flight (a PROCESSING request) is
//      left to that refund: the job, or the refund's own event, records it.
//   3. Our own refund (its metadata names a PROCESSING request: the refund-execute job has not
//      recorded it yet) closes that request as the job would have, from the refund itself.
//   4. Otherwise one read, the charge as Stripe has it now, so out-of-order delivery converges:
//      syncCharge moves the payment (forward only, payments.ts), and a refund event's refund
//      closes the request it answers (refunds.ts closeWithRefund):
//        - if the charge is now fully refunded, the charge's open (PENDING or
//          PROCESSING) request is answered by it: a refund made in Stripe's own dashboard closes
//          the request as APPROVED with that refund, audited as refund.completed_in_stripe, and
//          the business gets the usual email. The 3-day rule does not apply: the money has
//          already moved. A partial refund in the dashboard closes nothing (the payment becomes
//          PARTIALLY_REFUNDED, so the request can only be denied).
import type { DbTx, Payment, Prisma, RefundRequest } from "@steward/db/client";
import { systemActor } from "./actor.ts";
import { clearAlert } from "./alerts.ts";
import { recordAudit } from "./audit.ts";
import { NotFoundError } from "./errors.ts";
import type { CoreDeps } from "./deps.ts";
import type { Env } from "./env.ts";
import { deliverOutboxSoon } from "./followUps.ts";
import { metricsSettings, rollupMetrics } from "./metrics.ts";
import type { PaymentsGateway } from "./ports/payments.ts";
import { alertHeldCharge, heldChargeFingerprint, paymentReflects, paymentStatusOf, syncCharge } from "./payments.ts";
import { closeWithRefund, METADATA_REFUND_REQUEST, type RefundSource } from "./refunds.ts";
import { type AfterCommit, withAfterCommit } from "./unitOfWork.ts";
import { z } from "zod";

const CHARGE_EVENTS = new Set([
  "charge.succeeded",
  "charge.failed",
  "charge.pending",
  "charge.refunded",
  "charge.updated",
  "charge.captured",
  "charge.expired",
]);
const REFUND_EVENTS = new Set(["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"]);

export type StripeEventDeps = Pick<CoreDeps, "db" | "clock" | "stripe" | "events" | "jobs" | "logger"> & {
  /** MARKETPLACE_TIME_ZONE: the email of a request closed here. */
  env: Pick<Env, "MARKETPLACE_TIME_ZONE">;
};

export interface EventOutcome {
  summary: string;
  changes: Prisma.InputJsonValue;
  /** False when the event said nothing our state did not already say (nothing was written but the event's status). */
  changed: boolean;
  /** The refund request this event closed (its approval email is queued). */
  closedRefundRequestId?: string;
}

const chargeShape = z.object({
  id: z.string(),
  object: z.literal("charge"),
  status: z.enum(["succeeded", "pending", "failed"]),
  refunded: z.boolean(),
  amount_refunded: z.number().int(),
});
const refundShape = z.object({
  id: z.string(),
  object: z.literal("refund"),
  amount: z.number().int(),
  currency: z.string(),
  charge: z.union([z.string(), z.object({ id: z.string() })]),
  metadata: z.record(z.string(), z.string()).nullish(),
});
type RefundSnapshot = { id: string; amount: number; currency: string; chargeId: string; requestId: string | null };

type Snapshot =
  | { kind: "charge"; chargeId: string; charge: z.infer<typeof chargeShape> | null }
  | { kind: "refund"; chargeId: string; refund: RefundSnapshot };

function refundSnapshot(refund: z.infer<typeof refundShape>): RefundSnapshot {
  return {
    id: refund.id,
    amount: refund.amount,
    currency: refund.currency,
    chargeId: typeof refund.charge === "string" ? refund.charge : refund.charge.id,
    requestId: refund.metadata?.[METADATA_REFUND_REQUEST] ?? null,
  };
}

/** What the event carries; a refund event whose payload lacks the refund is read from Stripe. */
async function snapshotOf(
  stripe: PaymentsGateway,
  event: { type: string; objectId: string | null; payload: Prisma.JsonValue },
): Promise<Snapshot | null> {
  const object: unknown =
    typeof event.payload === "object" && event.payload !== null && !Array.isArray(event.payload)
      ? (event.payload["data"] as { object?: unknown } | null)?.object
      : undefined;
  if (CHARGE_EVENTS.has(event.type) && event.objectId) {
    const charge = chargeShape.safeParse(object);
    return { kind: "charge", chargeId: event.objectId, charge: charge.success ? charge.data : null };
  }
  if (REFUND_EVENTS.has(event.type) && event.objectId) {
    const carried = refundShape.safeParse(object);
    const refund = carried.success
      ? refundSnapshot(carried.data)
      : refundSnapshot(refundShape.parse(await stripe.refunds.retrieve(event.objectId)));
    return { kind: "refund", chargeId: refund.chargeId, refund };
  }
  return null;
}

/** The request a refund answers, if one is still open: the one its metadata names, else the charge's open one. */
async function requestAwaiting(
  db: DbTx,
  refund: RefundSnapshot,
  payment: Pick<Payment, "id"> | null,
): Promise<RefundRequest | null> {
  const linked = await db.refundRequest.findUnique({ where: { stripeRefundId: refund.id } });
  if (linked) return null;
  if (refund.requestId) {
    const named = await db.refundRequest.findFirst({ where: { id: refund.requestId, status: "PROCESSING" } });
    if (named) return named;
  }
  if (!payment) return null;
  return db.refundRequest.findFirst({ where: { paymentId: payment.id, status: { in: ["PENDING", "PROCESSING"] } } });
}

/**
 * The stripe-event job: processes the event (processStripeEvent); a payment that arrived or
 * changed shows on the overview now rather than at the next minute's rollup (best effort: the
 * minute's job catches up).
 */
export async function applyStripeEvent(
  deps: StripeEventDeps & Pick<CoreDeps, "env">,
  eventId: string,
): Promise<EventOutcome> {
  const outcome = await processStripeEvent(deps, eventId);
  if (outcome.changed)
    await rollupMetrics({ db: deps.db, events: deps.events, settings: metricsSettings(deps.env) }).catch(
      (error: unknown) =>
        deps.logger.warn({ err: error }, "metrics rollup after a Stripe event failed; the minute job will catch up"),
    );
  return outcome;
}

/**
 * Processes one stored event. Throws on failure (after recording the attempt and the error on the
 * event) so the job is retried with backoff. A refund request it closes is published, and its
 * email delivered, after the commit.
 */
export function processStripeEvent(deps: StripeEventDeps, eventId: string): Promise<EventOutcome> {
  return withAfterCommit(deps, (effects) => processOnce(deps, effects, eventId));
}

async function processOnce(deps: StripeEventDeps, effects: AfterCommit, eventId: string): Promise<EventOutcome> {
  const { db, stripe } = deps;
  const stored = await db.stripeWebhookEvent.findUnique({ where: { id: eventId }, select: { status: true } });
  if (!stored) throw new NotFoundError("StripeWebhookEvent", eventId);
  if (stored.status === "PROCESSED")
    return { summary: `${eventId} was already processed`, changes: { eventId }, changed: false };
  const event = await db.stripeWebhookEvent.update({ where: { id: eventId }, data: { attempts: { increment: 1 } } });
  const actor = systemActor("stripe-event");
  try {
    const snapshot = await snapshotOf(stripe, event);
    // What we know already, read from one snapshot (REPEATABLE READ): under READ COMMITTED the
    // refund-execute job could commit between the payment read and the request read, and the event
    // would see an unrefunded payment beside an already-linked request and read Stripe for nothing.
    const { payment, awaiting, refundInFlight } = snapshot
      ? await db.$transaction(
          async (tx) => {
            const payment = await tx.payment.findUnique({ where: { stripeChargeId: snapshot.chargeId } });
            const awaiting = snapshot.kind === "refund" ? await requestAwaiting(tx, snapshot.refund, payment) : null;
            const refundInFlight =
              snapshot.kind === "charge" && payment
                ? (await tx.refundRequest.count({ where: { paymentId: payment.id, status: "PROCESSING" } })) > 0
                : false;
            return { payment, awaiting, refundInFlight };
          },
          { isolationLevel: "RepeatableRead" },
        )
      : { payment: null, awaiting: null, refundInFlight: false };
    // A charge event that only says "refunded" while our refund is in flight: the refund-execute
    // job records it (or our refund's own event, or a dashboard refund's), so nothing to read.
    const leftToRefund =
      snapshot?.kind === "charge" &&
      refundInFlight &&
      snapshot.charge !== null &&
      snapshot.charge.status === "succeeded" &&
      snapshot.charge.amount_refunded > 0;
    const nothingNew =
      snapshot !== null &&
      payment !== null &&
      event.heldReason === null &&
      awaiting === null &&
      (snapshot.kind === "refund"
        ? payment.refundedCents >= snapshot.refund.amount
        : leftToRefund ||
          (snapshot.charge !== null &&
            paymentReflects(payment, {
              status: paymentStatusOf(snapshot.charge),
              refundedCents: snapshot.charge.amount_refunded,
            })));
    // Our own refund (its metadata names a PROCESSING request): the refund says all the
    // refund-execute job would have learnt from Stripe's answer, so it is recorded as the job would.
    const ownRefund =
      snapshot?.kind === "refund" && awaiting?.status === "PROCESSING" && awaiting.id === snapshot.refund.requestId;
    const charge = snapshot && !nothingNew && !ownRefund ? await stripe.charges.retrieve(snapshot.chargeId) : null;

    const result = await db.$transaction(async (tx) => {
      const sync = charge ? await syncCharge(tx, charge, actor) : null;
      let closed: RefundRequest | null = null;
      const how: RefundSource | null = ownRefund ? "EXECUTED" : charge?.refunded ? "IN_STRIPE" : null;
      if (how && awaiting && snapshot?.kind === "refund") {
        const outcome = await closeWithRefund(
          tx,
          { timeZone: deps.env.MARKETPLACE_TIME_ZONE, now: deps.clock },
          actor,
          awaiting.id,
          snapshot.refund,
          how,
        );
        if (outcome.closed) closed = outcome.request;
      }
      const closedNote = closed ? `refund request ${closed.id} closed` : null;
      const outcome = nothingNew
        ? leftToRefund
          ? "left to the refund in flight (no Stripe read)"
          : "already up to date (no Stripe read)"
        : ownRefund && !closed
          ? "already recorded by refund-execute"
          : sync
            ? [sync.note, closedNote].filter(Boolean).join("; ")
            : (closedNote ?? `ignored (${event.type} is not handled)`);
      const waiting = sync?.hold?.reason === "BUSINESS_UNKNOWN" ? sync.hold : null;
      await tx.stripeWebhookEvent.update({
        where: { id: eventId },
        data: waiting
          ? {
              status: "HELD",
              heldReason: "BUSINESS_UNKNOWN",
              heldBusinessRef: waiting.businessRef,
              lastError: waiting.detail,
            }
          : { status: "PROCESSED", processedAt: new Date(), lastError: null },
      });
      const paymentId = sync?.payment?.id ?? payment?.id ?? null;
      await recordAudit(tx, actor, {
        action: "stripe.webhook_processed",
        targetType: "StripeWebhookEvent",
        targetId: eventId,
        after: {
          type: event.type,
          outcome,
          paymentId,
          placementStatus: sync?.placement?.status ?? null,
          refundRequestId: closed?.id ?? null,
        },
      });
      return {
        hold: sync?.hold ?? null,
        closed,
        summary: `${event.type} ${event.objectId ?? ""}: ${outcome}`,
        changes: {
          eventId,
          type: event.type,
          paymentId,
          created: sync?.created ?? false,
          placementStatus: sync?.placement?.status ?? null,
          holdReason: sync?.hold?.reason ?? null,
          refundRequestId: closed?.id ?? null,
          stripeReads: charge ? 1 : 0,
        },
      };
    });
    if (result.closed) {
      effects.publish("refundRequestChanged", { refundRequestId: result.closed.id, status: result.closed.status });
      // The business's refund email goes now rather than at the outbox's next run.
      deliverOutboxSoon(effects, `refund-approved-${result.closed.id}`);
    }
    // Alerts after commit (their own transaction); a failure here must not undo the payment.
    if (charge) {
      const fingerprint = heldChargeFingerprint(charge.id);
      if (result.hold) await alertHeldCharge(deps, charge.id, result.hold).catch(() => undefined);
      else if (event.heldReason)
        await clearAlert(deps, fingerprint, "The business joined the catalog; the charge was processed", actor).catch(
          () => undefined,
        );
    }
    return {
      summary: result.summary,
      changes: result.changes,
      changed: !nothingNew,
      ...(result.closed ? { closedRefundRequestId: result.closed.id } : {}),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await db.stripeWebhookEvent.updateMany({
      where: { id: eventId, status: { not: "PROCESSED" } },
      data: { status: "FAILED", lastError: message.slice(0, 2000) },
    });
    throw error;
  }
}
