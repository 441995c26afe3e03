// Refund requests under the hard 3-day rule, and refunds that never happen twice.
//
// Approving is two steps with Stripe in between:
//   1. claim: in a transaction, the PENDING request (row-locked) becomes PROCESSING. Of two
//      operators, a double click or a retried request, exactly one gets here; the others get a
//      ConflictError. Eligibility is checked here, by the server, at decision time.
//   2. complete: one Stripe refund with the idempotency key stored on the request
//      ("refund-request-<id>"), then in ONE transaction: request APPROVED + the Stripe refund id,
//      payment REFUNDED, placement released (the queue advances), the email queued, the audit.
// If anything fails between Stripe and the database (a crash, a timeout, Stripe 5xx/429), the
// request stays PROCESSING and `completeRefund` is simply run again (the refund-recovery job):
// the same idempotency key makes Stripe replay the same refund instead of making a second one.
import type { Db, DbTx, Payment, RefundRequest, RefundRequestStatus } from "@steward/db/client";
import { type Actor, actorId, systemActor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { assertSystemMayPerform } from "./autonomy.ts";
import { daysAgo, formatDate, formatMoney, wholeDaysBetween } from "./email/format.ts";
import { refundApprovedEmail, refundDeniedEmail } from "./email/templates.ts";
import { ConflictError, DomainError, ForbiddenActionError, InvalidInputError, NotFoundError } from "./errors.ts";
import type { EventBus } from "./ports/events.ts";
import { enqueueEmail } from "./outbox.ts";
import { assertOperatorCan, tokenHasScope } from "./permissions.ts";
import { releaseForRefund } from "./placements.ts";
import {
  type GatewayRefund,
  isPermanentPaymentsError,
  type PaymentsGateway,
  paymentsErrorCode,
} from "./ports/payments.ts";

export const REFUND_WINDOW_DAYS = 3;
export const REFUND_WINDOW_MS = REFUND_WINDOW_DAYS * 24 * 3_600_000;
/** The Refunds page marks requests with less than this left. */
export const EXPIRES_SOON_MS = 12 * 3_600_000;

// ───────────────────────────── Eligibility (pure) ─────────────────────────────

export interface Eligibility {
  /** now − purchasedAt < 72 h, strictly. No override exists. */
  eligible: boolean;
  elapsedMs: number;
  /** Whole days elapsed, rounded down. */
  daysElapsed: number;
  /** When the window closes. */
  closesAt: Date;
  /** Milliseconds left in the window (0 once closed). */
  msLeft: number;
  /** Still eligible, but less than 12 h left. */
  expiresSoon: boolean;
}

export function refundEligibility(purchasedAt: Date, now: Date): Eligibility {
  const elapsedMs = now.getTime() - purchasedAt.getTime();
  const eligible = elapsedMs < REFUND_WINDOW_MS;
  const msLeft = Math.max(0, REFUND_WINDOW_MS - elapsedMs);
  return {
    eligible,
    elapsedMs,
    daysElapsed: wholeDaysBetween(purchasedAt, now),
    closesAt: new Date(purchasedAt.getTime() + REFUND_WINDOW_MS),
    msLeft,
    expiresSoon: eligible && msLeft < EXPIRES_SOON_MS,
  };
}

// ───────────────────────────── Errors ─────────────────────────────

/** Past the 3-day window: the approval is refused, nothing moves. */
export class RefundIneligibleError extends DomainError {
  readonly code = "REFUND_INELIGIBLE";
  constructor(
    readonly purchasedAt: Date,
    readonly daysElapsed: number,
    timeZone: string,
  ) {
    super(
      `Purchased on ${formatDate(purchasedAt, timeZone)}, ${daysAgo(daysElapsed)}: refunds are only possible within ${REFUND_WINDOW_DAYS} days`,
    );
  }
}

/** The payment cannot be refunded: it failed, is not completed, or was already refunded. */
export class PaymentNotRefundableError extends DomainError {
  readonly code = "PAYMENT_NOT_REFUNDABLE";
  constructor(
    readonly paymentId: string,
    readonly paymentStatus: Payment["status"],
  ) {
    super(
      paymentStatus === "FAILED"
        ? "This payment failed: nothing was charged, so there is nothing to refund"
        : paymentStatus === "PENDING"
          ? "This payment has not completed yet, so it cannot be refunded"
          : "This payment was already refunded",
    );
  }
}

/** A payment has at most one open (pending or processing) refund request. */
export class RefundAlreadyRequestedError extends DomainError {
  readonly code = "REFUND_ALREADY_REQUESTED";
  constructor(readonly refundRequestId: string) {
    super("A refund request for this payment is already open");
  }
}

// ───────────────────────────── Dependencies ─────────────────────────────

export interface RefundDeps {
  db: Db;
  events: EventBus;
  stripe: PaymentsGateway;
  /** The marketplace's time zone, for dates in messages and emails. */
  timeZone: string;
  /** Injectable clock (tests at 71 h 59 m and 72 h 00 m). */
  now?: () => Date;
}

const clock = (deps: Pick<RefundDeps, "now">): Date => deps.now?.() ?? new Date();

function publish(events: EventBus, request: Pick<RefundRequest, "id" | "status">): void {
  events.publish("refundRequestChanged", { refundRequestId: request.id, status: request.status });
}

function requesterOf(actor: Actor): string {
  switch (actor.kind) {
    case "OPERATOR":
      return `OPERATOR:${actor.id}`;
    case "API_TOKEN":
      return `API_TOKEN:${actor.id}`;
    case "SYSTEM":
      return `SYSTEM:${actor.label}`;
    case "ANONYMOUS":
      return "ANONYMOUS";
  }
}

// ───────────────────────────── Requesting ─────────────────────────────

export interface RefundRequestInput {
  /** Our payment id, or the Stripe charge id (what an integration knows); exactly one. */
  paymentId?: string | null;
  stripeChargeId?: string | null;
  reason: string;
  /** Optional, for integrations that state what they expect: must be the full amount, positive. */
  amountCents?: number | null;
  currency?: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An integration (scope refunds:write) or an operator asks for a refund. Requests past the window
 * are accepted (the operator denies them, and the business learns why by email).
 */
export async function requestRefund(
  deps: Pick<RefundDeps, "db" | "events" | "timeZone" | "now">,
  actor: Actor,
  input: RefundRequestInput,
): Promise<RefundRequest> {
  assertSystemMayPerform(actor, "refund.request");
  if (actor.kind === "API_TOKEN") {
    if (!tokenHasScope(actor, "refunds:write"))
      throw new ForbiddenActionError("This token needs the 'refunds:write' scope");
  } else assertOperatorCan(actor, "operate");
  const reason = input.reason.trim();
  if (reason.length < 3 || reason.length > 2000)
    throw new InvalidInputError("Say why the refund is requested (3–2000 characters)", "reason");
  const byId = input.paymentId ?? null;
  const byCharge = input.stripeChargeId?.trim() || null;
  if ((byId === null) === (byCharge === null))
    throw new InvalidInputError("Name the payment: either paymentId or stripeChargeId", "paymentId");
  if (byId !== null && !UUID.test(byId)) throw new NotFoundError("Payment", byId);
  if (input.amountCents != null && (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0))
    throw new InvalidInputError("The amount must be a positive whole number of cents", "amountCents");
  if (input.currency != null && !/^[a-z]{3}$/i.test(input.currency))
    throw new InvalidInputError("The currency must be a 3-letter ISO code", "currency");

  const request = await deps.db.$transaction(async (tx) => {
    const found = await tx.payment.findFirst({
      where: byId !== null ? { id: byId } : { stripeChargeId: byCharge ?? "" },
      select: { id: true },
    });
    if (!found) throw new NotFoundError("Payment", byId ?? byCharge ?? "");
    // The payment's row lock serialises concurrent requests for the same payment.
    await tx.$queryRaw`SELECT id FROM "Payment" WHERE id = ${found.id}::uuid FOR UPDATE`;
    const payment = await tx.payment.findUniqueOrThrow({ where: { id: found.id } });
    if (input.currency != null && input.currency.toLowerCase() !== payment.currency.toLowerCase())
      throw new InvalidInputError(
        `This payment is in ${payment.currency.toUpperCase()}, not ${input.currency.toUpperCase()}`,
        "currency",
      );
    if (input.amountCents != null && input.amountCents !== payment.amountCents)
      throw new InvalidInputError(
        `Only full refunds are possible: ${formatMoney(payment.amountCents, payment.currency)}`,
        "amountCents",
      );
    if (payment.status !== "SUCCEEDED") throw new PaymentNotRefundableError(payment.id, payment.status);
    const open = await tx.refundRequest.findFirst({
      where: { paymentId: payment.id, status: { in: ["PENDING", "PROCESSING"] } },
      select: { id: true },
    });
    if (open) throw new RefundAlreadyRequestedError(open.id);
    const row = await tx.refundRequest.create({
      data: {
        paymentId: payment.id,
        businessId: payment.businessId,
        reason,
        requestedBy: requesterOf(actor),
        // Replaced at once by the key derived from the id (the id is only known after the insert).
        idempotencyKey: `refund-request-new-${payment.id}-${Date.now()}`,
      },
    });
    const withKey = await tx.refundRequest.update({
      where: { id: row.id },
      data: { idempotencyKey: refundIdempotencyKey(row.id) },
    });
    const eligibility = refundEligibility(payment.purchasedAt, clock(deps));
    await recordAudit(tx, actor, {
      action: "refund.request",
      targetType: "RefundRequest",
      targetId: row.id,
      after: {
        paymentId: payment.id,
        amountCents: payment.amountCents,
        currency: payment.currency,
        eligibleNow: eligibility.eligible,
      },
      reason,
    });
    return withKey;
  });
  publish(deps.events, request);
  return request;
}

/** Derived from the request: every attempt to refund it, by any process, uses the same key. */
export function refundIdempotencyKey(refundRequestId: string): string {
  return `refund-request-${refundRequestId}`;
}

// ───────────────────────────── Approving ─────────────────────────────

async function lockRequest(tx: DbTx, id: string): Promise<RefundRequest & { payment: Payment }> {
  if (!UUID.test(id)) throw new NotFoundError("RefundRequest", id);
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "RefundRequest" WHERE id = ${id}::uuid FOR UPDATE`;
  if (locked.length === 0) throw new NotFoundError("RefundRequest", id);
  return tx.refundRequest.findUniqueOrThrow({ where: { id }, include: { payment: true } });
}

function alreadyDecided(status: RefundRequestStatus): ConflictError {
  const text: Record<RefundRequestStatus, string> = {
    PENDING: "pending",
    PROCESSING: "being refunded (someone approved it a moment ago)",
    APPROVED: "approved and refunded",
    DENIED: "denied",
    FAILED: "closed after a failed refund",
  };
  return new ConflictError(`This refund request is already ${text[status]}`);
}

export type CompletionOutcome = "COMPLETED" | "ALREADY_DONE" | "RETRY_LATER" | "FAILED";

export interface RefundResult {
  request: RefundRequest;
  outcome: CompletionOutcome;
}

/**
 * The operator approves: claims the request (exactly one caller wins), then refunds at Stripe.
 * When Stripe cannot be reached the result is RETRY_LATER with the request PROCESSING: the
 * caller schedules the refund-recovery job, which calls `completeRefund` again.
 */
export async function approveRefund(deps: RefundDeps, actor: Actor, refundRequestId: string): Promise<RefundResult> {
  assertSystemMayPerform(actor, "refund.approve");
  assertOperatorCan(actor, "operate");
  const now = clock(deps);
  const claimed = await deps.db.$transaction(async (tx) => {
    const request = await lockRequest(tx, refundRequestId);
    if (request.status !== "PENDING") throw alreadyDecided(request.status);
    if (request.payment.status !== "SUCCEEDED")
      throw new PaymentNotRefundableError(request.payment.id, request.payment.status);
    const eligibility = refundEligibility(request.payment.purchasedAt, now);
    if (!eligibility.eligible)
      throw new RefundIneligibleError(request.payment.purchasedAt, eligibility.daysElapsed, deps.timeZone);
    const updated = await tx.refundRequest.update({
      where: { id: request.id },
      data: { status: "PROCESSING", decidedById: actorId(actor), decidedAt: now, failureMessage: null },
    });
    await recordAudit(tx, actor, {
      action: "refund.approve",
      targetType: "RefundRequest",
      targetId: request.id,
      before: { status: "PENDING" },
      after: {
        status: "PROCESSING",
        paymentId: request.paymentId,
        amountCents: request.payment.amountCents,
        hoursElapsed: Math.floor(eligibility.elapsedMs / 3_600_000),
      },
    });
    return updated;
  });
  publish(deps.events, claimed);
  return completeRefund(deps, actor, claimed.id);
}

/**
 * Refunds a PROCESSING request at Stripe and records the result. Safe to run any number of
 * times, concurrently too: Stripe replays the same refund for the same idempotency key, and only
 * the first caller moves the request out of PROCESSING.
 */
export async function completeRefund(deps: RefundDeps, actor: Actor, refundRequestId: string): Promise<RefundResult> {
  const request = await deps.db.refundRequest.findUnique({
    where: { id: refundRequestId },
    include: { payment: true, business: true },
  });
  if (!request) throw new NotFoundError("RefundRequest", refundRequestId);
  if (request.status !== "PROCESSING") return { request, outcome: "ALREADY_DONE" };
  const { payment } = request;

  let refund: GatewayRefund;
  try {
    refund = await deps.stripe.refunds.create(
      {
        charge: payment.stripeChargeId,
        amount: payment.amountCents,
        reason: "requested_by_customer",
        metadata: { refund_request_id: request.id, payment_id: payment.id, business_id: payment.businessId },
      },
      { idempotencyKey: request.idempotencyKey },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let adopted: GatewayRefund | null = null;
    // Anything but a clear refusal from Stripe (network, 5xx, 429, or an error of our own after the
    // call) is retried later with the same key: replaying can never refund twice.
    let transient = !isPermanentPaymentsError(error);
    if (paymentsErrorCode(error) === "charge_already_refunded") {
      try {
        adopted = await findOwnRefund(deps.stripe, request);
      } catch (listError) {
        transient = !isPermanentPaymentsError(listError);
      }
    }
    if (adopted) refund = adopted;
    else if (transient) {
      const updated = await deps.db.refundRequest.updateMany({
        where: { id: request.id, status: "PROCESSING" },
        data: { failureMessage: `Stripe did not answer; retrying automatically (${message.slice(0, 300)})` },
      });
      const current = await deps.db.refundRequest.findUniqueOrThrow({ where: { id: request.id } });
      if (updated.count === 1) publish(deps.events, current);
      return { request: current, outcome: current.status === "PROCESSING" ? "RETRY_LATER" : "ALREADY_DONE" };
    } else {
      return failRefund(deps, actor, request.id, `Stripe refused the refund: ${message}`);
    }
  }

  const now = clock(deps);
  const result = await deps.db.$transaction(async (tx) => {
    const moved = await tx.refundRequest.updateMany({
      where: { id: request.id, status: "PROCESSING" },
      data: { status: "APPROVED", stripeRefundId: refund.id, failureMessage: null },
    });
    if (moved.count === 0) {
      return { request: await tx.refundRequest.findUniqueOrThrow({ where: { id: request.id } }), done: false };
    }
    const refundedCents = Math.min(payment.amountCents, Math.max(payment.refundedCents, refund.amount));
    await tx.payment.update({
      where: { id: payment.id },
      data: { status: refundedCents >= payment.amountCents ? "REFUNDED" : "PARTIALLY_REFUNDED", refundedCents },
    });
    const release = await releaseForRefund(tx, payment.id, now);
    const email = refundApprovedEmail({
      businessName: request.business.name,
      amountCents: refund.amount,
      currency: refund.currency,
      purchasedAt: payment.purchasedAt,
      timeZone: deps.timeZone,
      stripeRefundId: refund.id,
    });
    await enqueueEmail(tx, {
      kind: "email.refund_approved",
      dedupKey: `refund-approved-${request.id}`,
      email: { to: request.business.email, ...email },
    });
    await recordAudit(tx, actor, {
      action: "refund.completed",
      targetType: "RefundRequest",
      targetId: request.id,
      before: { status: "PROCESSING", paymentStatus: payment.status },
      after: {
        status: "APPROVED",
        stripeRefundId: refund.id,
        amountCents: refund.amount,
        currency: refund.currency,
        placementId: release.placement?.id ?? null,
        placementStatus: release.placement?.status ?? null,
        freedSlot: release.freedSlot,
        promotedPlacementIds: release.promoted.map((placement) => placement.id),
      },
    });
    return { request: await tx.refundRequest.findUniqueOrThrow({ where: { id: request.id } }), done: true };
  });
  if (result.done) publish(deps.events, result.request);
  return { request: result.request, outcome: result.done ? "COMPLETED" : "ALREADY_DONE" };
}

/**
 * Stripe says the charge is already refunded: if that refund is ours (its metadata names this
 * request, e.g. our idempotency key expired after 24 h), adopt it rather than fail.
 */
async function findOwnRefund(
  stripe: PaymentsGateway,
  request: RefundRequest & { payment: Payment },
): Promise<GatewayRefund | null> {
  const refunds = await stripe.refunds.list({ charge: request.payment.stripeChargeId, limit: 100 });
  return refunds.data.find((refund) => refund.metadata?.["refund_request_id"] === request.id) ?? null;
}

async function failRefund(deps: RefundDeps, actor: Actor, id: string, message: string): Promise<RefundResult> {
  const result = await deps.db.$transaction(async (tx) => {
    const moved = await tx.refundRequest.updateMany({
      where: { id, status: "PROCESSING" },
      data: { status: "FAILED", failureMessage: message.slice(0, 2000) },
    });
    if (moved.count === 1)
      await recordAudit(tx, actor, {
        action: "refund.failed",
        targetType: "RefundRequest",
        targetId: id,
        before: { status: "PROCESSING" },
        after: { status: "FAILED" },
        reason: message.slice(0, 500),
      });
    return { request: await tx.refundRequest.findUniqueOrThrow({ where: { id } }), moved: moved.count === 1 };
  });
  if (result.moved) publish(deps.events, result.request);
  return { request: result.request, outcome: result.moved ? "FAILED" : "ALREADY_DONE" };
}

/** Requests left PROCESSING (Stripe was down, or a process died mid-way): finish them. */
export async function recoverProcessingRefunds(
  deps: RefundDeps,
  options: { olderThanMs: number; limit?: number },
): Promise<Record<CompletionOutcome, number>> {
  const cutoff = new Date(clock(deps).getTime() - options.olderThanMs);
  const stuck = await deps.db.refundRequest.findMany({
    where: { status: "PROCESSING", decidedAt: { lte: cutoff } },
    orderBy: { decidedAt: "asc" },
    take: options.limit ?? 100,
    select: { id: true },
  });
  const counts: Record<CompletionOutcome, number> = { COMPLETED: 0, ALREADY_DONE: 0, RETRY_LATER: 0, FAILED: 0 };
  const actor = systemActor("refund-recovery");
  for (const { id } of stuck) counts[(await completeRefund(deps, actor, id)).outcome]++;
  return counts;
}

// ───────────────────────────── Denying ─────────────────────────────

export async function denyRefund(
  deps: Pick<RefundDeps, "db" | "events" | "timeZone" | "now">,
  actor: Actor,
  refundRequestId: string,
  reason: string,
): Promise<RefundRequest> {
  assertOperatorCan(actor, "operate");
  const note = reason.trim();
  if (note.length < 3 || note.length > 2000)
    throw new InvalidInputError("Say why the refund is denied (3–2000 characters)", "reason");
  const now = clock(deps);
  const denied = await deps.db.$transaction(async (tx) => {
    const request = await lockRequest(tx, refundRequestId);
    if (request.status !== "PENDING") throw alreadyDecided(request.status);
    const business = await tx.business.findUniqueOrThrow({ where: { id: request.businessId } });
    const eligibility = refundEligibility(request.payment.purchasedAt, now);
    const updated = await tx.refundRequest.update({
      where: { id: request.id },
      data: { status: "DENIED", decidedById: actorId(actor), decidedAt: now, denialNote: note },
    });
    const email = refundDeniedEmail({
      businessName: business.name,
      amountCents: request.payment.amountCents,
      currency: request.payment.currency,
      purchasedAt: request.payment.purchasedAt,
      decidedAt: now,
      timeZone: deps.timeZone,
      reason: note,
      outsideWindow: !eligibility.eligible,
      windowDays: REFUND_WINDOW_DAYS,
    });
    await enqueueEmail(tx, {
      kind: "email.refund_denied",
      dedupKey: `refund-denied-${request.id}`,
      email: { to: business.email, ...email },
    });
    await recordAudit(tx, actor, {
      action: "refund.deny",
      targetType: "RefundRequest",
      targetId: request.id,
      before: { status: "PENDING" },
      after: { status: "DENIED", daysElapsed: eligibility.daysElapsed, eligibleAtDecision: eligibility.eligible },
      reason: note,
    });
    return updated;
  });
  publish(deps.events, denied);
  return denied;
}
