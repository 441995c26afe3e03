// Reconciliation, after a run: an operator fixes one discrepancy (import the missed charge, mark
// ours failed or refunded, or accept with a note), after re-checking the charge at Stripe; audited.
// Nothing is ever sent to Stripe.
import type { DbTx, Discrepancy, DiscrepancyKind, DiscrepancyResolution } from "@steward/db/client";
import { type Actor, actorId } from "../actor.ts";
import { recordAudit } from "../audit.ts";
import { emailPlacementStarted } from "../businessEmails.ts";
import { clock } from "../clock.ts";
import { ConflictError, DomainError, InvalidInputError, NotFoundError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { METADATA_BUSINESS, syncCharge } from "../payments.ts";
import { assertOperatorCan } from "../permissions.ts";
import { releaseForRefund } from "../placements.ts";
import {
  type GatewayCharge,
  isTransientPaymentsError,
  type PaymentsGateway,
  paymentsErrorCode,
} from "../ports/payments.ts";
import { publishRun, type ReconciliationDeps } from "./context.ts";
import { settleAlert } from "./runs.ts";

// ───────────────────────────── Errors ─────────────────────────────

export type FixAction = "IMPORT" | "MARK_FAILED" | "MARK_REFUNDED" | "ACCEPT";

/** Which fix applies to which kind. Accepting (with a note) applies to every kind. */
export const FIXES_BY_KIND: Record<DiscrepancyKind, readonly FixAction[]> = {
  MISSING_IN_DB: ["IMPORT", "ACCEPT"],
  MISSING_IN_STRIPE: ["MARK_FAILED", "ACCEPT"],
  AMOUNT_MISMATCH: ["ACCEPT"],
  CURRENCY_MISMATCH: ["ACCEPT"],
  REFUND_MISMATCH: ["MARK_REFUNDED", "ACCEPT"],
};

const RESOLUTION_OF: Record<FixAction, DiscrepancyResolution> = {
  IMPORT: "IMPORTED",
  MARK_FAILED: "MARKED_FAILED",
  MARK_REFUNDED: "MARKED_REFUNDED",
  ACCEPT: "ACCEPTED",
};

/** The fix does not apply to this kind of discrepancy (or to this charge). Nothing changed. */
export class FixNotApplicableError extends DomainError {
  readonly code = "FIX_NOT_APPLICABLE";
  constructor(
    readonly kind: DiscrepancyKind,
    readonly action: FixAction,
    message?: string,
  ) {
    super(
      message ??
        `${action.replace("_", " ").toLowerCase()} does not fix a ${kind.replaceAll("_", " ").toLowerCase()} discrepancy; possible: ${FIXES_BY_KIND[
          kind
        ]
          .map((fix) => fix.replace("_", " ").toLowerCase())
          .join(", ")}`,
    );
  }
}

/** The re-check at Stripe contradicts the fix (Stripe changed since the run). Nothing changed. */
export class StripeDisagreesError extends DomainError {
  readonly code = "STRIPE_DISAGREES";
  constructor(
    message: string,
    readonly stripeStatus: string | null,
  ) {
    super(message);
  }
}

/** Stripe could not be reached for the re-check. Nothing changed; try again. */
export class StripeUnavailableError extends DomainError {
  readonly code = "STRIPE_UNAVAILABLE";
  constructor(detail: string) {
    super(`Stripe could not be reached to re-check the charge; nothing changed. Try again. (${detail.slice(0, 200)})`);
  }
}

// ───────────────────────────── Resolving ─────────────────────────────

async function retrieveCharge(stripe: PaymentsGateway, chargeId: string): Promise<GatewayCharge | null> {
  try {
    return await stripe.charges.retrieve(chargeId);
  } catch (error) {
    if (paymentsErrorCode(error) === "resource_missing") return null;
    if (isTransientPaymentsError(error)) throw new StripeUnavailableError(error instanceof Error ? error.message : "");
    throw error;
  }
}

function stripeStatusOf(charge: GatewayCharge | null): string {
  if (!charge) return "missing";
  if (charge.status !== "succeeded") return charge.status;
  return charge.refunded ? "refunded" : charge.amount_refunded > 0 ? "partially_refunded" : "succeeded";
}

/**
 * An operator fixes one discrepancy. The charge is re-checked at Stripe first; the fix must
 * apply to the discrepancy's kind and agree with Stripe now. Resolving twice is a conflict.
 * Nothing is ever sent to Stripe.
 */
export async function resolveDiscrepancy(
  deps: Pick<ReconciliationDeps, "db" | "events" | "jobs" | "logger" | "stripe" | "now"> & { timeZone: string },
  actor: Actor,
  discrepancyId: string,
  action: FixAction,
  noteInput: string | null | undefined,
): Promise<Discrepancy> {
  assertOperatorCan(actor, "operate");
  const note = noteInput?.trim() || null;
  if (action === "ACCEPT" && (note === null || note.length < 3))
    throw new InvalidInputError("Say why the difference is accepted (at least 3 characters)", "note");
  if (note !== null && note.length > 2000) throw new InvalidInputError("The note is at most 2000 characters", "note");
  if (!isUuid(discrepancyId)) throw new NotFoundError("Discrepancy", discrepancyId);
  const found = await deps.db.discrepancy.findUnique({ where: { id: discrepancyId } });
  if (!found) throw new NotFoundError("Discrepancy", discrepancyId);
  if (found.resolvedAt) throw new ConflictError("This discrepancy is already resolved");
  if (!FIXES_BY_KIND[found.kind].includes(action)) throw new FixNotApplicableError(found.kind, action);

  const charge = await retrieveCharge(deps.stripe, found.stripeChargeId);
  const stripeStatus = stripeStatusOf(charge);
  const payment = found.paymentId ? await deps.db.payment.findUnique({ where: { id: found.paymentId } }) : null;
  checkAgainstStripe(found, action, charge, payment);

  const now = clock(deps);
  const resolved = await deps.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Discrepancy" WHERE id = ${discrepancyId}::uuid FOR UPDATE`;
    const current = await tx.discrepancy.findUniqueOrThrow({ where: { id: discrepancyId } });
    if (current.resolvedAt) throw new ConflictError("This discrepancy is already resolved");
    const effect = await applyFix(tx, actor, current, action, charge, now, deps.timeZone);
    const updated = await tx.discrepancy.update({
      where: { id: discrepancyId },
      data: {
        resolution: RESOLUTION_OF[action],
        resolutionNote: note,
        resolvedById: actorId(actor),
        resolvedAt: now,
        ...(effect.paymentId ? { paymentId: effect.paymentId } : {}),
      },
    });
    await recordAudit(tx, actor, {
      action: "reconciliation.resolve",
      targetType: "Discrepancy",
      targetId: discrepancyId,
      before: { kind: current.kind, resolution: null },
      after: {
        resolution: RESOLUTION_OF[action],
        runId: current.runId,
        stripeChargeId: current.stripeChargeId,
        stripeStatusAtCheck: stripeStatus,
        paymentId: effect.paymentId ?? current.paymentId,
        placementStatus: effect.placementStatus,
      },
      ...(note ? { reason: note } : {}),
    });
    return updated;
  });
  await settleAlert(deps, resolved.runId, actor);
  const run = await deps.db.reconciliationRun.findUniqueOrThrow({ where: { id: resolved.runId } });
  publishRun(deps.events, run);
  return resolved;
}

function checkAgainstStripe(
  discrepancy: Discrepancy,
  action: FixAction,
  charge: GatewayCharge | null,
  payment: { status: string; refundedCents: number } | null,
): void {
  const status = stripeStatusOf(charge);
  if (action === "IMPORT") {
    if (!charge || charge.status !== "succeeded")
      throw new StripeDisagreesError(`Stripe now has this charge as ${status}: there is nothing to import`, status);
    if (!charge.metadata?.[METADATA_BUSINESS])
      throw new FixNotApplicableError(
        discrepancy.kind,
        action,
        "This charge names no business (no business_id metadata), so it is not a placement purchase: accept it with a note",
      );
    if (payment && payment.status === "FAILED")
      throw new FixNotApplicableError(
        discrepancy.kind,
        action,
        "We recorded this charge as failed; a failed payment is never revived automatically: accept it with a note",
      );
  }
  if (action === "MARK_FAILED" && charge && charge.status !== "failed")
    throw new StripeDisagreesError(
      `Stripe now has this charge as ${status}; run reconciliation again before marking it failed`,
      status,
    );
  if (action === "MARK_REFUNDED") {
    if (!charge || charge.amount_refunded <= (payment?.refundedCents ?? 0))
      throw new StripeDisagreesError(
        `Stripe has not refunded more than we recorded (Stripe: ${status}). Steward never refunds by itself: refund through the Refunds page, or accept with a note`,
        status,
      );
  }
}

async function applyFix(
  tx: DbTx,
  actor: Actor,
  discrepancy: Discrepancy,
  action: FixAction,
  charge: GatewayCharge | null,
  now: Date,
  timeZone: string,
): Promise<{ paymentId: string | null; placementStatus: string | null }> {
  switch (action) {
    case "IMPORT":
    case "MARK_REFUNDED": {
      // The webhook's own path: the payment (and placement, or its release) as Stripe has it now.
      if (!charge) throw new Error("unreachable: checked before");
      const sync = await syncCharge(tx, charge, actor);
      if (sync.hold?.reason === "BUSINESS_UNKNOWN")
        throw new FixNotApplicableError(
          discrepancy.kind,
          action,
          `${sync.hold.detail}: add the business to the catalog first`,
        );
      // A missed charge: the business paid and heard nothing; tell it the placement now counts.
      if (action === "IMPORT" && sync.created && sync.placement)
        await emailPlacementStarted(tx, sync.placement, timeZone);
      return { paymentId: sync.payment?.id ?? null, placementStatus: sync.placement?.status ?? null };
    }
    case "MARK_FAILED": {
      const paymentId = discrepancy.paymentId;
      if (!paymentId) throw new FixNotApplicableError(discrepancy.kind, action, "No payment of ours to mark failed");
      await tx.$queryRaw`SELECT id FROM "Payment" WHERE id = ${paymentId}::uuid FOR UPDATE`;
      const before = await tx.payment.findUniqueOrThrow({ where: { id: paymentId } });
      await tx.payment.update({ where: { id: paymentId }, data: { status: "FAILED" } });
      // The purchase never happened at Stripe: its placement ends and frees its slot.
      const release = await releaseForRefund(tx, paymentId, now);
      await recordAudit(tx, actor, {
        action: "payment.marked_failed",
        targetType: "Payment",
        targetId: paymentId,
        before: { status: before.status },
        after: {
          status: "FAILED",
          stripeChargeId: before.stripeChargeId,
          placementStatus: release.placement?.status ?? null,
          promotedPlacementIds: release.promoted.map((placement) => placement.id),
        },
      });
      return { paymentId, placementStatus: release.placement?.status ?? null };
    }
    case "ACCEPT":
      return { paymentId: null, placementStatus: null };
  }
}
