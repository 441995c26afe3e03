// Refund requests under the hard 3-day rule, and refunds that never happen twice.
//
// One refund takes this path (one process per step, no step done twice):
//   1. approve (the operator's HTTP request): one guarded UPDATE moves the PENDING request to
//      PROCESSING while its payment is SUCCEEDED and inside the window, audited. Of two operators,
//      a double click or a retried request, exactly one gets here; the others get a ConflictError.
//      After commit, ONE refund-execute job is enqueued under a job id derived from the request.
//   2. executeRefund (that job): one Stripe refund with the idempotency key stored on the request
//      ("refund-request-<id>") and the request's id in the refund's metadata, then in ONE
//      transaction (closeWithRefund): request APPROVED + the Stripe refund id, payment moved by
//      the rank rule in payments.ts, placement released (the queue advances), email queued, audit.
//      If anything fails between Stripe and the database (a crash, a timeout, Stripe 5xx/429) the
//      request stays PROCESSING and the job's own retries run it again: the same idempotency key
//      makes Stripe replay the same refund instead of making a second one. The refund-recovery
//      sweep re-enqueues requests still PROCESSING after two minutes, under the same job id.
//   3. Stripe's webhook (stripeEvents.ts): a refund whose metadata names a request closes it if the
//      job has not yet; a refund made in Stripe's own dashboard that fully refunds a charge closes
//      that charge's open request (APPROVED, audited as refund.completed_in_stripe, emailed).
import type { Db, DbTx, Payment, RefundRequest, RefundRequestStatus } from "@steward/db/client";
import { type Actor, actorId } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { assertSystemMayPerform } from "./autonomy.ts";
import { type Clock, clock } from "./clock.ts";
import type { CoreDeps } from "./deps.ts";
import { daysAgo, formatDate, formatMoney, wholeDaysBetween } from "./email/format.ts";
import { refundApprovedEmail, refundDeniedEmail } from "./email/templates.ts";
import { ConflictError, DomainError, ForbiddenActionError, InvalidInputError, NotFoundError } from "./errors.ts";
import { isUuid } from "./ids.ts";
import type { Env } from "./env.ts";
import { deliverOutboxSoon, executeRefundSoon, executeRefunds } from "./followUps.ts";
import { enqueueEmail } from "./outbox.ts";
import { advancePayment, lockPayment } from "./payments.ts";
import { assertOperatorCan, tokenHasScope } from "./permissions.ts";
import { releaseForRefund } from "./placements.ts";
import {
  type GatewayRefund,
  isPermanentPaymentsError,
  type PaymentsGateway,
  paymentsErrorCode,
} from "./ports/payments.ts";
import { type EnqueuePending, type PendingSweepOptions, sweepPendingPages } from "./sweeps.ts";
import { type AfterCommit, inTransaction, withAfterCommit } from "./unitOfWork.ts";

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

/** What the refund path needs of the process's CoreDeps (tests pin the clock at 71 h 59 m and 72 h 00 m). */
export type RefundDeps = Pick<CoreDeps, "db" | "clock" | "events" | "jobs" | "logger" | "stripe"> & {
  /** MARKETPLACE_TIME_ZONE: dates in messages and emails. */
  env: Pick<Env, "MARKETPLACE_TIME_ZONE">;
};

/** Requesting, approving and denying: no Stripe call (the refund-execute job makes it). */
export type RefundDecisionDeps = Omit<RefundDeps, "stripe">;

/** Subscribers hear of the change after it commits. */
function changed(effects: Pick<AfterCommit, "publish">, request: Pick<RefundRequest, "id" | "status">): void {
  effects.publish("refundRequestChanged", { refundRequestId: request.id, status: request.status });
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

/**
 * An integration (scope refunds:write) or an operator asks for a refund. Requests past the window
 * are accepted (the operator denies them, and the business learns why by email).
 */
export async function requestRefund(
  deps: RefundDecisionDeps,
  actor: Actor,
  input: RefundRequestInput,
  options: {
    /**
     * A caller's own checks, run in the request's transaction under the payment's lock, before the
     * ordinary ones: a decision that must not coexist with the refund (accepting a held charge) is
     * either committed already and seen here, or comes after and sees this request.
     */
    whileLocked?: (tx: DbTx, paymentId: string) => Promise<void>;
  } = {},
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
  if (byId !== null && !isUuid(byId)) throw new NotFoundError("Payment", byId);
  if (input.amountCents != null && (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0))
    throw new InvalidInputError("The amount must be a positive whole number of cents", "amountCents");
  if (input.currency != null && !/^[a-z]{3}$/i.test(input.currency))
    throw new InvalidInputError("The currency must be a 3-letter ISO code", "currency");

  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const found = await tx.payment.findFirst({
      where: byId !== null ? { id: byId } : { stripeChargeId: byCharge ?? "" },
      select: { id: true },
    });
    if (!found) throw new NotFoundError("Payment", byId ?? byCharge ?? "");
    // The payment's row lock serialises concurrent requests for the same payment.
    await tx.$queryRaw`SELECT id FROM "Payment" WHERE id = ${found.id}::uuid FOR UPDATE`;
    await options.whileLocked?.(tx, found.id);
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
    const eligibility = refundEligibility(payment.purchasedAt, deps.clock());
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
    changed(unit, withKey);
    return withKey;
  });
}

/** Derived from the request: every attempt to refund it, by any process, uses the same key. */
export function refundIdempotencyKey(refundRequestId: string): string {
  return `refund-request-${refundRequestId}`;
}

// ───────────────────────────── Approving ─────────────────────────────

async function lockRequest(tx: DbTx, id: string): Promise<RefundRequest & { payment: Payment }> {
  if (!isUuid(id)) throw new NotFoundError("RefundRequest", id);
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

/**
 * The operator approves: one guarded UPDATE claims the request (PENDING → PROCESSING) only while
 * its payment is still SUCCEEDED and inside the 3-day window, so of concurrent approvals exactly
 * one wins; the others learn why not. After commit the refund-execute job takes over (its job id
 * derives from the request, so a retried approval or the recovery sweep adds nothing; if the queue
 * is unreachable, the refund-recovery sweep enqueues it within minutes). Returns the request
 * PROCESSING; it becomes APPROVED (or FAILED) when the job is done.
 */
export async function approveRefund(
  deps: RefundDecisionDeps,
  actor: Actor,
  refundRequestId: string,
): Promise<RefundRequest> {
  assertSystemMayPerform(actor, "refund.approve");
  assertOperatorCan(actor, "operate");
  if (!isUuid(refundRequestId)) throw new NotFoundError("RefundRequest", refundRequestId);
  const now = deps.clock();
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const moved = await tx.refundRequest.updateMany({
      where: {
        id: refundRequestId,
        status: "PENDING",
        // The 3-day rule, strictly: eligible while now − purchasedAt < 72 h.
        payment: { status: "SUCCEEDED", purchasedAt: { gt: new Date(now.getTime() - REFUND_WINDOW_MS) } },
      },
      data: { status: "PROCESSING", decidedById: actorId(actor), decidedAt: now, failureMessage: null },
    });
    const request = await tx.refundRequest.findUnique({ where: { id: refundRequestId }, include: { payment: true } });
    if (!request) throw new NotFoundError("RefundRequest", refundRequestId);
    const eligibility = refundEligibility(request.payment.purchasedAt, now);
    if (moved.count === 0) {
      if (request.status !== "PENDING") throw alreadyDecided(request.status);
      if (request.payment.status !== "SUCCEEDED")
        throw new PaymentNotRefundableError(request.payment.id, request.payment.status);
      throw new RefundIneligibleError(
        request.payment.purchasedAt,
        eligibility.daysElapsed,
        deps.env.MARKETPLACE_TIME_ZONE,
      );
    }
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
    const { payment: _payment, ...row } = request;
    changed(unit, row);
    executeRefundSoon(unit, row.id);
    return row;
  });
}

// ───────────────────────────── Executing (the refund-execute job) ─────────────────────────────

export type CompletionOutcome = "COMPLETED" | "ALREADY_DONE" | "RETRY_LATER" | "FAILED";

export interface RefundResult {
  request: RefundRequest;
  outcome: CompletionOutcome;
}

/**
 * Refunds a PROCESSING request at Stripe and records the result: the only code that asks Stripe
 * for a refund. Safe to run any number of times, concurrently too: Stripe replays the same refund
 * for the same idempotency key, and only the first caller moves the request out of PROCESSING.
 * RETRY_LATER leaves it PROCESSING; the job fails the attempt so the queue retries with backoff.
 */
export function executeRefund(deps: RefundDeps, actor: Actor, refundRequestId: string): Promise<RefundResult> {
  return withAfterCommit(deps, (effects) => attemptRefund(deps, effects, actor, refundRequestId));
}

async function attemptRefund(
  deps: RefundDeps,
  effects: AfterCommit,
  actor: Actor,
  refundRequestId: string,
): Promise<RefundResult> {
  const request = await deps.db.refundRequest.findUnique({
    where: { id: refundRequestId },
    include: { payment: true },
  });
  if (!request) throw new NotFoundError("RefundRequest", refundRequestId);
  if (request.status !== "PROCESSING") return { request, outcome: "ALREADY_DONE" };
  const { payment } = request;

  let refund: GatewayRefund;
  let how: RefundSource = "EXECUTED";
  try {
    refund = await deps.stripe.refunds.create(
      {
        charge: payment.stripeChargeId,
        amount: payment.amountCents,
        reason: "requested_by_customer",
        metadata: {
          [METADATA_REFUND_REQUEST]: request.id,
          payment_id: payment.id,
          business_id: payment.businessId,
        },
      },
      { idempotencyKey: request.idempotencyKey },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let found: RefundAtStripe | null = null;
    // Anything but a clear refusal from Stripe (network, 5xx, 429, or an error of our own after the
    // call) is retried later with the same key: replaying can never refund twice.
    let transient = !isPermanentPaymentsError(error);
    if (paymentsErrorCode(error) === "charge_already_refunded") {
      try {
        found = await refundAlreadyAtStripe(deps.stripe, request);
      } catch (listError) {
        transient = !isPermanentPaymentsError(listError);
      }
    }
    if (found) ({ refund, how } = found);
    else if (transient) {
      const updated = await deps.db.refundRequest.updateMany({
        where: { id: request.id, status: "PROCESSING" },
        data: { failureMessage: `Stripe did not answer; retrying automatically (${message.slice(0, 300)})` },
      });
      const current = await deps.db.refundRequest.findUniqueOrThrow({ where: { id: request.id } });
      if (updated.count === 1) changed(effects, current);
      return { request: current, outcome: current.status === "PROCESSING" ? "RETRY_LATER" : "ALREADY_DONE" };
    } else {
      return failRefund(deps, effects, actor, request.id, `Stripe refused the refund: ${message}`);
    }
  }

  const closeDeps = { timeZone: deps.env.MARKETPLACE_TIME_ZONE, now: deps.clock };
  const result = await deps.db.$transaction((tx) => closeWithRefund(tx, closeDeps, actor, request.id, refund, how));
  if (result.closed) {
    changed(effects, result.request);
    // The business's email goes now rather than at the outbox's next run.
    deliverOutboxSoon(effects, `refund-approved-${request.id}`);
  }
  return { request: result.request, outcome: result.closed ? "COMPLETED" : "ALREADY_DONE" };
}

/** The refund's metadata key naming its request: how Stripe's webhook links a refund back to it. */
export const METADATA_REFUND_REQUEST = "refund_request_id";

/**
 * EXECUTED: the refund our refund-execute job asked for (its metadata names the request).
 * IN_STRIPE: a refund someone made in Stripe's own dashboard, which fully refunded the charge.
 */
export type RefundSource = "EXECUTED" | "IN_STRIPE";

interface RefundAtStripe {
  refund: GatewayRefund;
  how: RefundSource;
}

/**
 * Stripe says the charge is already refunded. If that refund is ours (its metadata names this
 * request, e.g. our idempotency key expired after 24 h), adopt it; if someone refunded the whole
 * charge in Stripe's dashboard, that refund answers the request. Otherwise nothing to adopt.
 */
async function refundAlreadyAtStripe(
  stripe: PaymentsGateway,
  request: RefundRequest & { payment: Payment },
): Promise<RefundAtStripe | null> {
  const refunds = (await stripe.refunds.list({ charge: request.payment.stripeChargeId, limit: 100 })).data;
  const own = refunds.find((refund) => refund.metadata?.[METADATA_REFUND_REQUEST] === request.id);
  if (own) return { refund: own, how: "EXECUTED" };
  const refunded = refunds.reduce((sum, refund) => sum + (refund.status === "failed" ? 0 : refund.amount), 0);
  const latest = refunds[0];
  return latest && refunded >= request.payment.amountCents ? { refund: latest, how: "IN_STRIPE" } : null;
}

/**
 * Closes a request with the refund that answers it, in the caller's transaction: request
 * APPROVED with the Stripe refund id (only from PROCESSING for our own refund; from PENDING or
 * PROCESSING for one made in Stripe), payment moved by the rank rule (payments.ts), placement
 * released (the queue advances), the email queued, the audit. Only the first caller closes it.
 */
export async function closeWithRefund(
  tx: DbTx,
  deps: { timeZone: string; now?: Clock },
  actor: Actor,
  refundRequestId: string,
  refund: Pick<GatewayRefund, "id" | "amount" | "currency">,
  how: RefundSource,
): Promise<{ request: RefundRequest; closed: boolean }> {
  const open: RefundRequestStatus[] = how === "EXECUTED" ? ["PROCESSING"] : ["PENDING", "PROCESSING"];
  const { paymentId } = await tx.refundRequest.findUniqueOrThrow({
    where: { id: refundRequestId },
    select: { paymentId: true },
  });
  // The payment's lock first, as the webhook's charge sync takes it: one lock order, no deadlock,
  // and concurrent closers of this request queue here.
  const locked = await lockPayment(tx, { id: paymentId });
  const before = await tx.refundRequest.findUniqueOrThrow({
    where: { id: refundRequestId },
    include: { business: true },
  });
  const now = clock(deps);
  const moved = await tx.refundRequest.updateMany({
    where: { id: refundRequestId, status: { in: open } },
    data: {
      status: "APPROVED",
      stripeRefundId: refund.id,
      failureMessage: null,
      ...(before.status === "PENDING" ? { decidedAt: now } : {}),
    },
  });
  if (moved.count === 0)
    return { request: await tx.refundRequest.findUniqueOrThrow({ where: { id: refundRequestId } }), closed: false };
  const refundedCents = Math.max(locked.refundedCents, refund.amount);
  const { payment } = await advancePayment(tx, actor, locked, {
    status: refundedCents >= locked.amountCents ? "REFUNDED" : "PARTIALLY_REFUNDED",
    refundedCents,
  });
  const release = await releaseForRefund(tx, payment.id, now);
  const email = refundApprovedEmail({
    businessName: before.business.name,
    amountCents: refund.amount,
    currency: refund.currency,
    purchasedAt: payment.purchasedAt,
    timeZone: deps.timeZone,
    stripeRefundId: refund.id,
  });
  await enqueueEmail(tx, {
    kind: "email.refund_approved",
    dedupKey: `refund-approved-${refundRequestId}`,
    businessId: before.businessId,
    email: { to: before.business.email, ...email },
  });
  await recordAudit(tx, actor, {
    action: how === "EXECUTED" ? "refund.completed" : "refund.completed_in_stripe",
    targetType: "RefundRequest",
    targetId: refundRequestId,
    before: { status: before.status, paymentStatus: locked.status },
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
    ...(how === "IN_STRIPE" ? { reason: "Refunded in Stripe's dashboard, not through Steward" } : {}),
  });
  return { request: await tx.refundRequest.findUniqueOrThrow({ where: { id: refundRequestId } }), closed: true };
}

async function failRefund(
  deps: Pick<RefundDeps, "db">,
  effects: AfterCommit,
  actor: Actor,
  id: string,
  message: string,
): Promise<RefundResult> {
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
  if (result.moved) changed(effects, result.request);
  return { request: result.request, outcome: result.moved ? "FAILED" : "ALREADY_DONE" };
}

/** How long a claimed request is left to the job its approval enqueued before the sweep re-enqueues it. */
export const CLAIMED_REFUND_GRACE_MS = 2 * 60_000;

/**
 * Requests left PROCESSING (the queue lost the job, or the job gave up while Stripe was down):
 * handed back to refund-execute under the same job id, so a job still queued is not doubled.
 */
export async function sweepClaimedRefunds(
  db: Db,
  enqueue: EnqueuePending,
  options: PendingSweepOptions,
): Promise<number> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.olderThanMs);
  return sweepPendingPages(
    async (after, take) => {
      const rows = await db.refundRequest.findMany({
        where: {
          status: "PROCESSING",
          decidedAt: { lte: cutoff },
          ...(after ? { OR: [{ decidedAt: { gt: after.at } }, { decidedAt: after.at, id: { gt: after.id } }] } : {}),
        },
        orderBy: [{ decidedAt: "asc" }, { id: "asc" }],
        select: { id: true, decidedAt: true },
        take,
      });
      return rows.map((row) => ({ id: row.id, at: row.decidedAt ?? cutoff }));
    },
    enqueue,
    options.pageSize,
  );
}

/** The refund-recovery job: claimed requests left PROCESSING past the grace go back to refund-execute. */
export function recoverClaimedRefunds(deps: Pick<CoreDeps, "db" | "jobs" | "clock">): Promise<number> {
  return sweepClaimedRefunds(deps.db, (ids) => executeRefunds(deps, ids), {
    olderThanMs: CLAIMED_REFUND_GRACE_MS,
    now: deps.clock(),
  });
}

// ───────────────────────────── Denying ─────────────────────────────

/** The operator denies with a reason; the business's email goes out after commit (not at the outbox's next run). */
export async function denyRefund(
  deps: RefundDecisionDeps,
  actor: Actor,
  refundRequestId: string,
  reason: string,
): Promise<RefundRequest> {
  assertOperatorCan(actor, "operate");
  const note = reason.trim();
  if (note.length < 3 || note.length > 2000)
    throw new InvalidInputError("Say why the refund is denied (3–2000 characters)", "reason");
  const now = deps.clock();
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
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
      timeZone: deps.env.MARKETPLACE_TIME_ZONE,
      reason: note,
      outsideWindow: !eligibility.eligible,
      windowDays: REFUND_WINDOW_DAYS,
    });
    await enqueueEmail(tx, {
      kind: "email.refund_denied",
      dedupKey: `refund-denied-${request.id}`,
      businessId: request.businessId,
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
    changed(unit, updated);
    deliverOutboxSoon(unit, `refund-denied-${request.id}`);
    return updated;
  });
}
