// Review moderation: submission, scoring results, decisions (with optimistic concurrency so two
// operators never both decide the same review), reversal, bulk approval, and queue statistics.
import type { Db, DbTx, Prisma, RejectionReason, Review, ReviewStatus } from "@steward/db/client";
import { type Actor, actorId, actorKind, actorLabel } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";
import type { EventBus } from "./events.ts";
import type { Classification } from "./moderation/classifier.ts";
import { assertOperatorCan } from "./permissions.ts";
import { type EnqueuePending, type PendingSweepOptions, sweepPendingPages } from "./sweeps.ts";

export const MAX_REVIEW_LENGTH = 10_000;
export const DEFAULT_BULK_APPROVE_THRESHOLD = 0.9;

export interface ReviewSubmission {
  businessId: string;
  rating: number;
  body: string;
}

export async function submitReview(db: Db, events: EventBus, actor: Actor, input: ReviewSubmission): Promise<Review> {
  const body = input.body.trim();
  if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
    throw new InvalidInputError("Rating must be a whole number from 1 to 5", "rating");
  }
  if (body.length === 0) throw new InvalidInputError("The review is empty", "body");
  if (body.length > MAX_REVIEW_LENGTH)
    throw new InvalidInputError(`The review is longer than ${MAX_REVIEW_LENGTH} characters`, "body");
  const review = await db.$transaction(async (tx) => {
    const business = await tx.business.findUnique({ where: { id: input.businessId }, select: { id: true } });
    if (!business) throw new NotFoundError("Business", input.businessId);
    const created = await tx.review.create({
      data: {
        businessId: business.id,
        rating: input.rating,
        body,
        source: sourceOf(actor),
        submittedByTokenId: actor.kind === "API_TOKEN" ? actor.id : null,
      },
    });
    await recordAudit(tx, actor, { action: "review.submit", targetType: "Review", targetId: created.id });
    return created;
  });
  events.publish("reviewQueueChanged", { reviewIds: [review.id], change: "SUBMITTED" });
  return review;
}

function sourceOf(actor: Actor): string {
  switch (actor.kind) {
    case "API_TOKEN":
      return `token:${actor.name}`;
    case "OPERATOR":
      return `operator:${actor.email}`;
    case "SYSTEM":
      return `system:${actor.label}`;
    case "ANONYMOUS":
      return "anonymous";
  }
}

/** Stores a classifier's verdict; the latest score is what the queue shows and filters on. */
export async function recordReviewScore(
  db: Db,
  events: EventBus,
  reviewId: string,
  classifier: string,
  classification: Pick<Classification, "confidence" | "signals">,
): Promise<"RECORDED" | "ALREADY_SCORED"> {
  const outcome = await db.$transaction(async (tx) => {
    const review = await tx.review.findUnique({ where: { id: reviewId }, select: { id: true } });
    if (!review) throw new NotFoundError("Review", reviewId);
    // Only an unscored review takes a score: a scoring job delivered twice (BullMQ is at least
    // once) or re-queued by the sweep must not add a second score. The guarded update decides.
    const { count } = await tx.review.updateMany({
      where: { id: reviewId, aiScoredAt: null },
      data: { aiConfidence: classification.confidence, aiProvider: classifier, aiScoredAt: new Date() },
    });
    if (count === 0) return "ALREADY_SCORED" as const;
    await tx.reviewScore.create({
      data: {
        reviewId,
        classifier,
        confidence: classification.confidence,
        signals: classification.signals.map((signal) => ({ ...signal })),
      },
    });
    return "RECORDED" as const;
  });
  if (outcome === "RECORDED") events.publish("reviewQueueChanged", { reviewIds: [reviewId], change: "SCORED" });
  return outcome;
}

export type Decision = { action: "APPROVE" } | { action: "REJECT"; reason: RejectionReason; note?: string | null };

/**
 * Decides a pending review. The update only matches a PENDING row (and the version the operator
 * saw, when given), so of two simultaneous decisions exactly one wins; the other gets a conflict.
 */
export async function decideReview(
  db: Db,
  events: EventBus,
  actor: Actor,
  reviewId: string,
  decision: Decision,
  expectedVersion?: number | null,
): Promise<Review> {
  assertOperatorCan(actor, "operate");
  const note = decision.action === "REJECT" ? decision.note?.trim() || null : null;
  if (note && note.length > 2000) throw new InvalidInputError("The note is longer than 2000 characters", "note");
  const status: ReviewStatus = decision.action === "APPROVE" ? "APPROVED" : "REJECTED";
  const review = await db.$transaction(async (tx) => {
    const updated = await tx.review.updateMany({
      where: { id: reviewId, status: "PENDING", ...(expectedVersion != null ? { version: expectedVersion } : {}) },
      data: {
        status,
        rejectionReason: decision.action === "REJECT" ? decision.reason : null,
        moderatorNote: note,
        moderatorId: actorId(actor),
        decidedAt: new Date(),
        version: { increment: 1 },
      },
    });
    if (updated.count === 0) await explainMiss(tx, reviewId);
    const row = await tx.review.findUniqueOrThrow({ where: { id: reviewId } });
    await tx.reviewDecision.create({
      data: {
        reviewId,
        action: decision.action,
        reason: decision.action === "REJECT" ? decision.reason : null,
        note,
        confidence: row.aiConfidence,
        actorId: actorId(actor),
      },
    });
    await recordAudit(tx, actor, {
      action: decision.action === "APPROVE" ? "review.approve" : "review.reject",
      targetType: "Review",
      targetId: reviewId,
      before: { status: "PENDING" },
      after: { status, ...(decision.action === "REJECT" ? { reason: decision.reason } : {}) },
      ...(note ? { reason: note } : {}),
    });
    return row;
  });
  events.publish("reviewQueueChanged", { reviewIds: [reviewId], change: "DECIDED" });
  return review;
}

/** Reverses a decision: the review goes back to the queue; the audit log keeps both. */
export async function reopenReview(
  db: Db,
  events: EventBus,
  actor: Actor,
  reviewId: string,
  reason: string,
): Promise<Review> {
  assertOperatorCan(actor, "operate");
  const why = reason.trim();
  if (why.length < 3 || why.length > 2000)
    throw new InvalidInputError("Say why the decision is reversed (3–2000 characters)", "reason");
  const review = await db.$transaction(async (tx) => {
    const before = await tx.review.findUnique({ where: { id: reviewId } });
    if (!before) throw new NotFoundError("Review", reviewId);
    const updated = await tx.review.updateMany({
      where: { id: reviewId, status: { in: ["APPROVED", "REJECTED"] }, version: before.version },
      data: {
        status: "PENDING",
        rejectionReason: null,
        moderatorNote: null,
        moderatorId: null,
        decidedAt: null,
        version: { increment: 1 },
      },
    });
    if (updated.count === 0)
      throw new ConflictError("This review is not decided (or changed meanwhile); nothing to reopen");
    await tx.reviewDecision.create({
      data: { reviewId, action: "REOPEN", note: why, confidence: before.aiConfidence, actorId: actorId(actor) },
    });
    await recordAudit(tx, actor, {
      action: "review.reopen",
      targetType: "Review",
      targetId: reviewId,
      before: { status: before.status, reason: before.rejectionReason },
      after: { status: "PENDING" },
      reason: why,
    });
    return tx.review.findUniqueOrThrow({ where: { id: reviewId } });
  });
  events.publish("reviewQueueChanged", { reviewIds: [reviewId], change: "REOPENED" });
  return review;
}

async function explainMiss(tx: DbTx, reviewId: string): Promise<never> {
  const current = await tx.review.findUnique({ where: { id: reviewId }, select: { status: true } });
  if (!current) throw new NotFoundError("Review", reviewId);
  throw new ConflictError(
    current.status === "PENDING"
      ? "This review changed since you loaded it; reload and decide again"
      : `This review was already ${current.status.toLowerCase()} by someone else`,
  );
}

export function validateThreshold(threshold: number): number {
  if (!Number.isFinite(threshold) || threshold < 0.5 || threshold > 1) {
    throw new InvalidInputError("The threshold must be between 0.5 and 1", "threshold");
  }
  return threshold;
}

/** How many pending reviews a bulk approval at this threshold would approve (shown before confirming). */
export function countBulkEligible(db: Db, threshold: number): Promise<number> {
  return db.review.count({ where: { status: "PENDING", aiConfidence: { gte: validateThreshold(threshold) } } });
}

/**
 * Approves every pending review scored at or above the threshold, in one transaction (all or
 * nothing), with one decision row and one audit event per review.
 */
export async function bulkApproveReviews(db: Db, events: EventBus, actor: Actor, threshold: number): Promise<number> {
  assertOperatorCan(actor, "operate");
  validateThreshold(threshold);
  const moderatorId = actorId(actor);
  // One statement: the update, one decision row and one audit event per review. Row-by-row
  // inserts through the ORM were 50x slower than the bare UPDATE (see bench/src/reviews.ts).
  const approved = await db.$queryRaw<{ id: string }[]>`
    WITH approved AS (
      UPDATE "Review"
         SET status = 'APPROVED', "moderatorId" = ${moderatorId}::uuid, "decidedAt" = now(),
             "rejectionReason" = NULL, "moderatorNote" = NULL, version = version + 1
       WHERE status = 'PENDING' AND "aiConfidence" >= ${threshold}
   RETURNING id, "aiConfidence"
    ), decisions AS (
      INSERT INTO "ReviewDecision" (id, "reviewId", action, confidence, bulk, "actorId", "createdAt")
      SELECT uuid_generate_v7(), id, 'APPROVE', "aiConfidence", true, ${moderatorId}::uuid, now() FROM approved
    ), audit AS (
      INSERT INTO "AuditEvent" (id, "actorKind", "actorId", "actorLabel", action, "targetType", "targetId", before, after, "createdAt")
      SELECT uuid_generate_v7(), ${actorKind(actor)}::"ActorKind", ${moderatorId}, ${actorLabel(actor)}, 'review.approve', 'Review',
             id::text, '{"status":"PENDING"}'::jsonb,
             jsonb_build_object('status', 'APPROVED', 'bulk', true, 'threshold', ${threshold}::float8), now()
        FROM approved
    )
    SELECT id::text AS id FROM approved`;
  // Subscribers re-read the counts; a sample of ids is enough to refresh what they show.
  if (approved.length > 0)
    events.publish("reviewQueueChanged", { reviewIds: approved.slice(0, 100).map((row) => row.id), change: "DECIDED" });
  return approved.length;
}

/** What a Relay connection asks of one queue page: Prisma's cursor window plus the selection. */
export interface QueuePageQuery {
  include?: Prisma.ReviewInclude;
  cursor?: Prisma.ReviewWhereUniqueInput;
  skip?: number;
  /** Negative when paging backwards (`before`/`last`). */
  take?: number;
}

/**
 * One page of the moderation queue, oldest first by (createdAt, id). Prisma turns `cursor` into
 * sub-selects joined by OR, which PostgreSQL cannot use as an index bound, so a page deep in a 1M
 * queue walked every pending row before the cursor (100 ms). Instead the cursor row's own
 * (createdAt, id) becomes a keyset condition whose `createdAt >=` part starts the range scan of
 * `Review(status, createdAt, id)` at the cursor. Cursors stay review ids, so the API is unchanged.
 */
export async function reviewQueuePage(
  db: Db,
  query: QueuePageQuery,
  where: Prisma.ReviewWhereInput,
): Promise<Review[]> {
  const orderBy: Prisma.ReviewOrderByWithRelationInput[] = [{ createdAt: "asc" }, { id: "asc" }];
  const { cursor, skip: _skip, ...rest } = query;
  const cursorId = cursor?.id;
  const at = cursorId ? await db.review.findUnique({ where: { id: cursorId }, select: { createdAt: true } }) : null;
  // No cursor, or one naming no review: Prisma's own handling (an unknown cursor yields an empty page).
  if (!cursorId || !at) return db.review.findMany({ ...query, where, orderBy });
  const forward = (rest.take ?? 0) >= 0;
  const keyset: Prisma.ReviewWhereInput = forward
    ? {
        createdAt: { gte: at.createdAt },
        OR: [{ createdAt: { gt: at.createdAt } }, { id: { gt: cursorId } }],
      }
    : {
        createdAt: { lte: at.createdAt },
        OR: [{ createdAt: { lt: at.createdAt } }, { id: { lt: cursorId } }],
      };
  return db.review.findMany({ ...rest, where: { AND: [where, keyset] }, orderBy });
}

export interface QueueStats {
  pending: number;
  autoEligible: number;
  approved: number;
  rejectedByReason: Record<RejectionReason, number>;
  /** Approvals at ≥ threshold that were later reopened: the number an owner tunes the threshold by. */
  confidentApprovals: number;
  confidentApprovalsReversed: number;
}

export async function reviewQueueStats(db: Db, threshold: number): Promise<QueueStats> {
  validateThreshold(threshold);
  const [byStatus, rejected, autoEligible, reversal] = await Promise.all([
    db.review.groupBy({ by: ["status"], _count: { _all: true } }),
    db.review.groupBy({ by: ["rejectionReason"], where: { status: "REJECTED" }, _count: { _all: true } }),
    db.review.count({ where: { status: "PENDING", aiConfidence: { gte: threshold } } }),
    db.$queryRaw<{ approvals: bigint; reversed: bigint }[]>`
      SELECT count(*) AS approvals,
             count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM "ReviewDecision" later
                WHERE later."reviewId" = d."reviewId" AND later.action = 'REOPEN' AND later."createdAt" > d."createdAt")) AS reversed
        FROM "ReviewDecision" d
       WHERE d.action = 'APPROVE' AND d.confidence >= ${threshold}`,
  ]);
  const count = (status: ReviewStatus) => byStatus.find((row) => row.status === status)?._count._all ?? 0;
  const rejectedByReason: Record<RejectionReason, number> = { SPAM: 0, PROFANITY: 0, OFF_TOPIC: 0, OTHER: 0 };
  for (const row of rejected) if (row.rejectionReason) rejectedByReason[row.rejectionReason] = row._count._all;
  return {
    pending: count("PENDING"),
    autoEligible,
    approved: count("APPROVED"),
    rejectedByReason,
    confidentApprovals: Number(reversal[0]?.approvals ?? 0),
    confidentApprovalsReversed: Number(reversal[0]?.reversed ?? 0),
  };
}

// ───────────────────────────── Sweeping scores Redis lost ─────────────────────────────

/** submitReview's caller enqueues the scoring right after the insert; younger reviews are left to it. */
export const REVIEW_SCORING_SWEEP_GRACE_MS = 2 * 60_000;

/**
 * Hands back to the queue every pending review that was never scored (its score-review job lost
 * with Redis, or never added because Redis was down when it was submitted). `enqueue` must use
 * submitReview's job id (`score-review-<reviewId>`), so a review whose job is still queued is not
 * scored twice at once. Decided reviews are not scored after the fact.
 */
export async function sweepUnscoredReviews(
  db: Db,
  enqueue: EnqueuePending,
  options: PendingSweepOptions,
): Promise<number> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.olderThanMs);
  return sweepPendingPages(
    async (after, take) => {
      const rows = await db.review.findMany({
        where: {
          status: "PENDING",
          aiScoredAt: null,
          // Rows loaded with a confidence but no scoring time (imports, benchmarks) count as scored.
          aiConfidence: null,
          createdAt: { lt: cutoff },
          ...(after ? { OR: [{ createdAt: { gt: after.at } }, { createdAt: after.at, id: { gt: after.id } }] } : {}),
        },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        select: { id: true, createdAt: true },
        take,
      });
      return rows.map((row) => ({ id: row.id, at: row.createdAt }));
    },
    enqueue,
    options.pageSize,
  );
}
