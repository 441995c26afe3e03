// Region prices and the charges held for review because they did not pay them.
//
//   setRegionPrice      ADMIN: what a placement costs in a region (amount + currency), audited
//   acceptHeldPayment   OPERATOR: the charge stands as paid: its placement is bought now (FIFO by
//                       its purchase time, like any other)
//   refundHeldPayment   OPERATOR: refunded through the ordinary refund path (refunds.ts: one
//                       request, one Stripe refund under its idempotency key), so money never
//                       moves twice and the 3-day rule holds
// Both decisions lock the payment row first; of two operators (or a double click) one wins and
// the other gets a ConflictError.
import type { DbTx, Payment, Placement, RefundRequest, Region } from "@steward/db/client";
import { type Actor, actorId } from "./actor.ts";
import { clearAlert } from "./alerts.ts";
import { recordAudit } from "./audit.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";
import { isUuid } from "./ids.ts";
import { heldChargeFingerprint } from "./payments.ts";
import { assertOperatorCan } from "./permissions.ts";
import { emailPlacementStarted } from "./businessEmails.ts";
import { placePurchase } from "./placements.ts";
import {
  approveRefund,
  type RefundDecisionDeps,
  RefundIneligibleError,
  refundEligibility,
  requestRefund,
} from "./refunds.ts";
import type { CoreDeps } from "./deps.ts";

/** ADMIN only: a placement's price in a region. Charges recorded later are checked against it. */
export async function setRegionPrice(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: { regionId: string; priceCents: number; currency: string },
): Promise<Region> {
  const { db } = deps;
  assertOperatorCan(actor, "administer");
  if (!Number.isSafeInteger(input.priceCents) || input.priceCents < 1 || input.priceCents > 100_000_000)
    throw new InvalidInputError("The price must be a whole number of minor units, 1–100,000,000", "priceCents");
  const currency = input.currency.trim().toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw new InvalidInputError("The currency must be a 3-letter ISO code", "currency");
  if (!isUuid(input.regionId)) throw new NotFoundError("Region", input.regionId);
  return db.$transaction(async (tx) => {
    const before = await tx.region.findUnique({ where: { id: input.regionId } });
    if (!before) throw new NotFoundError("Region", input.regionId);
    if (before.placementPriceCents === input.priceCents && before.placementCurrency === currency) return before;
    const region = await tx.region.update({
      where: { id: input.regionId },
      data: { placementPriceCents: input.priceCents, placementCurrency: currency },
    });
    await recordAudit(tx, actor, {
      action: "region.setPrice",
      targetType: "Region",
      targetId: region.id,
      before: { placementPriceCents: before.placementPriceCents, placementCurrency: before.placementCurrency },
      after: { placementPriceCents: region.placementPriceCents, placementCurrency: region.placementCurrency },
    });
    return region;
  });
}

async function lockHeld(db: DbTx, paymentId: string): Promise<Payment> {
  if (!isUuid(paymentId)) throw new NotFoundError("Payment", paymentId);
  const locked = await db.$queryRaw<
    { id: string }[]
  >`SELECT id FROM "Payment" WHERE id = ${paymentId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw new NotFoundError("Payment", paymentId);
  const payment = await db.payment.findUniqueOrThrow({ where: { id: paymentId } });
  if (payment.holdReason === null) throw new ConflictError("This payment is not held for review");
  if (payment.holdResolution !== null)
    throw new ConflictError(
      `This held payment was already ${payment.holdResolution === "ACCEPTED" ? "accepted" : "refunded"}`,
    );
  if (payment.status !== "SUCCEEDED")
    throw new ConflictError(
      `This payment is ${payment.status.toLowerCase().replace("_", " ")} at Stripe; there is nothing to decide`,
    );
  const open = await db.refundRequest.findFirst({
    where: { paymentId, status: { in: ["PENDING", "PROCESSING", "APPROVED"] } },
    select: { id: true },
  });
  if (open) throw new ConflictError("A refund of this payment is already under way");
  return payment;
}

/** The operator accepts a held charge: it buys its placement now (active, or queued by purchase time). */
export async function acceptHeldPayment(
  deps: RefundDecisionDeps,
  actor: Actor,
  input: { paymentId: string; note?: string | null },
): Promise<{ payment: Payment; placement: Placement }> {
  assertOperatorCan(actor, "operate");
  const note = input.note?.trim() || null;
  if (note && note.length > 2000) throw new InvalidInputError("The note is longer than 2000 characters", "note");
  const now = deps.clock();
  const result = await deps.db.$transaction(async (tx) => {
    const held = await lockHeld(tx, input.paymentId);
    const business = await tx.business.findUniqueOrThrow({
      where: { id: held.businessId },
      select: { regionId: true },
    });
    const payment = await tx.payment.update({
      where: { id: held.id },
      data: { holdResolution: "ACCEPTED", holdResolvedAt: now, holdResolvedById: actorId(actor) },
    });
    const placement = await placePurchase(
      tx,
      {
        businessId: payment.businessId,
        regionId: payment.heldRegionId ?? business.regionId,
        paymentId: payment.id,
        purchasedAt: payment.purchasedAt,
      },
      now,
    );
    await recordAudit(tx, actor, {
      action: "payment.hold_accepted",
      targetType: "Payment",
      targetId: payment.id,
      before: { holdReason: held.holdReason, holdDetail: held.holdDetail },
      after: { holdResolution: "ACCEPTED", placementId: placement.id, placementStatus: placement.status },
      ...(note ? { reason: note } : {}),
    });
    // The business paid long ago and heard nothing: tell it the placement now counts.
    await emailPlacementStarted(tx, placement, deps.env.MARKETPLACE_TIME_ZONE);
    return { payment, placement };
  });
  await clearAlert(deps, heldChargeFingerprint(result.payment.stripeChargeId), "Accepted by an operator", actor).catch(
    () => undefined,
  );
  return result;
}

/**
 * The operator refunds a held charge, through the refund path every refund takes. Refused past
 * the 3-day window (as any refund). The hold is closed once the refund is claimed (under way).
 */
export async function refundHeldPayment(
  deps: RefundDecisionDeps,
  actor: Actor,
  input: { paymentId: string; reason: string },
): Promise<RefundRequest> {
  assertOperatorCan(actor, "operate");
  const now = deps.clock();
  if (!isUuid(input.paymentId)) throw new NotFoundError("Payment", input.paymentId);
  // The hold is checked in the refund request's own transaction, under the payment's lock: checked
  // in a transaction of its own, an accept could commit between the check and the request, and the
  // business would get its placement started, then refunded.
  const locked: { held?: Payment } = {};
  const request = await requestRefund(
    deps,
    actor,
    { paymentId: input.paymentId, reason: input.reason },
    {
      whileLocked: async (tx, paymentId) => {
        const held = (locked.held = await lockHeld(tx, paymentId));
        const eligibility = refundEligibility(held.purchasedAt, now);
        if (!eligibility.eligible)
          throw new RefundIneligibleError(held.purchasedAt, eligibility.daysElapsed, deps.env.MARKETPLACE_TIME_ZONE);
      },
    },
  );
  const decided = locked.held;
  if (!decided) throw new Error("unreachable: the request was made under the hold's checks");
  const claimed = await approveRefund(deps, actor, request.id);
  await deps.db.$transaction(async (tx) => {
    await tx.payment.update({
      where: { id: decided.id },
      data: { holdResolution: "REFUNDED", holdResolvedAt: now, holdResolvedById: actorId(actor) },
    });
    await recordAudit(tx, actor, {
      action: "payment.hold_refunded",
      targetType: "Payment",
      targetId: decided.id,
      before: { holdReason: decided.holdReason, holdDetail: decided.holdDetail },
      after: { holdResolution: "REFUNDED", refundRequestId: claimed.id, refundStatus: claimed.status },
      reason: input.reason.trim(),
    });
  });
  await clearAlert(deps, heldChargeFingerprint(decided.stripeChargeId), "Refunded by an operator", actor).catch(
    () => undefined,
  );
  return claimed;
}
