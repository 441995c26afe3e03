// Review moderation: submission, scoring results, decisions (with optimistic concurrency so two
// operators never both decide the same review), reversal, bulk approval, and queue statistics.
import type { Db, DbTx, Prisma, RejectionReason, Review, ReviewStatus } from "@steward/db/client";
import { type Actor, actorId, actorKind, actorLabel } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import type { CoreDeps } from "./deps.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";
import { currentAiMode } from "./featureFlags.ts";
import type { JobOutcome } from "./jobRuns.ts";
import { scoreReview } from "./moderation/aiProvider.ts";
import { scoreReviews, scoreSubmittedReview } from "./followUps.ts";
import { type Classification, reasonFor, type Signal } from "./moderation/classifier.ts";
import { assertOperatorCan } from "./permissions.ts";
import { isUuid } from "./ids.ts";
import { literalLike } from "./text.ts";
import { type EnqueuePending, type PendingSweepOptions, sweepPendingPages } from "./sweeps.ts";
import { type AfterCommit, type EffectDeps, inTransaction, withAfterCommit } from "./unitOfWork.ts";

export const MAX_REVIEW_LENGTH = 10_000;

/** Deciding and scoring: the rows change in one transaction, the queue hears of it after commit. */
export type ReviewDeps = Pick<CoreDeps, "db"> & EffectDeps;
export const DEFAULT_BULK_APPROVE_THRESHOLD = 0.9;
/** Reviews scored below this carry a suggested rejection reason, whatever their signals. */
export const SUGGESTION_BELOW_CONFIDENCE = 0.5;
/** A signal this heavy (a link, spam, profanity, off-topic: content, not form) suggests a rejection on its own. */
export const SUGGESTING_SIGNAL_WEIGHT = 0.3;
export const REJECTION_REASONS = [
  "SPAM",
  "PROFANITY",
  "OFF_TOPIC",
  "OTHER",
] as const satisfies readonly RejectionReason[];

export interface Suggestion {
  reason: RejectionReason;
  /** The signals behind it, strongest first, as "KIND: detail". */
  signals: string[];
}

/**
 * What the classifier suggests for a low-confidence review: the reason its strongest signal names.
 * A short or shouting review that is otherwise fine gets none (form is not a reason to reject).
 */
export function suggestionFor(classification: { confidence: number; signals: readonly Signal[] }): Suggestion | null {
  const strongest = Math.max(0, ...classification.signals.map((signal) => signal.weight));
  if (classification.confidence >= SUGGESTION_BELOW_CONFIDENCE && strongest < SUGGESTING_SIGNAL_WEIGHT) return null;
  const reason = reasonFor(classification.signals) ?? "OTHER";
  const signals = [...classification.signals]
    .sort((a, b) => b.weight - a.weight)
    .map((signal) => `${signal.kind}: ${signal.detail}`);
  return { reason, signals };
}

export interface ReviewSubmission {
  businessId: string;
  rating: number;
  body: string;
}

/**
 * An integration submits a review: stored as pending, then (after commit) the queue hears of it
 * and the score-review job scores it (deterministic job id: a retried request never scores the
 * same review twice at once; if it cannot be queued, the review-scoring sweep finds it unscored).
 */
export async function submitReview(
  deps: Pick<CoreDeps, "sql"> & EffectDeps,
  actor: Actor,
  input: ReviewSubmission,
): Promise<Review> {
  const body = input.body.trim();
  if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
    throw new InvalidInputError("Rating must be a whole number from 1 to 5", "rating");
  }
  if (body.length === 0) throw new InvalidInputError("The review is empty", "body");
  if (body.length > MAX_REVIEW_LENGTH)
    throw new InvalidInputError(`The review is longer than ${MAX_REVIEW_LENGTH} characters`, "body");
  if (!isUuid(input.businessId)) throw new NotFoundError("Business", input.businessId);
  return withAfterCommit(deps, async (effects) => {
    // One statement, atomic on its own: the review and its audit event, or neither when the business
    // does not exist. Integrations submit at volume; as a Prisma transaction this was five round
    // trips (BEGIN, business, review, audit, COMMIT) and most of the request's CPU (issue 17).
    const [created] = await deps.sql.rows<Review>(
      `WITH business AS (SELECT id FROM "Business" WHERE id = $1::uuid),
            review AS (
              INSERT INTO "Review" (id, "businessId", rating, body, source, "submittedByTokenId")
              SELECT uuid_generate_v7(), business.id, $2, $3, $4, $5::uuid FROM business
              RETURNING *),
            audit AS (
              INSERT INTO "AuditEvent" (id, "actorKind", "actorId", "actorLabel", action, "targetType", "targetId", "createdAt")
              SELECT uuid_generate_v7(), $6::"ActorKind", $7, $8, 'review.submit', 'Review', review.id::text, now() FROM review)
       SELECT * FROM review`,
      [
        input.businessId,
        input.rating,
        body,
        sourceOf(actor),
        actor.kind === "API_TOKEN" ? actor.id : null,
        actorKind(actor),
        actorId(actor),
        actorLabel(actor),
      ],
    );
    if (!created) throw new NotFoundError("Business", input.businessId);
    effects.publish("reviewQueueChanged", { reviewIds: [created.id], change: "SUBMITTED" });
    scoreSubmittedReview(effects, created.id);
    return created;
  });
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

/**
 * The score-review job: scores a submitted review with the classifier the AI_MODE flag selects
 * (switchable by operators and the failover automation, not the env default) and records it. A
 * review already scored (a redelivered job) is not sent to the provider again. Throws
 * NotFoundError for a review that does not exist.
 */
export async function scoreReviewOnce(deps: ReviewDeps & Pick<CoreDeps, "env">, reviewId: string): Promise<JobOutcome> {
  const { db, env } = deps;
  const review = await db.review.findUnique({
    where: { id: reviewId },
    select: { body: true, rating: true, aiScoredAt: true },
  });
  if (!review) throw new NotFoundError("Review", reviewId);
  if (review.aiScoredAt) return { summary: "already scored", changes: { reviewId } };
  const mode = await currentAiMode(db, env);
  const score = await scoreReview(
    { mode, providerUrl: env.AI_PROVIDER_URL, timeoutMs: env.AI_TIMEOUT_MS, retries: env.AI_RETRIES },
    review,
  );
  if (
    (await recordReviewScore(deps, { reviewId, classifier: score.classifier, classification: score })) ===
    "ALREADY_SCORED"
  )
    return { summary: "already scored (by a job delivered at the same time)", changes: { reviewId } };
  return {
    summary: `scored ${score.confidence.toFixed(3)} by ${score.classifier}`,
    changes: { reviewId, confidence: score.confidence },
  };
}

/** Stores a classifier's verdict; the latest score is what the queue shows and filters on. */
export async function recordReviewScore(
  deps: ReviewDeps,
  input: { reviewId: string; classifier: string; classification: Pick<Classification, "confidence" | "signals"> },
): Promise<"RECORDED" | "ALREADY_SCORED"> {
  const { reviewId, classifier, classification } = input;
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const review = await tx.review.findUnique({ where: { id: reviewId }, select: { id: true } });
    if (!review) throw new NotFoundError("Review", reviewId);
    // Only an unscored review takes a score: a scoring job delivered twice (BullMQ is at least
    // once) or re-queued by the sweep must not add a second score. The guarded update decides.
    const suggestion = suggestionFor(classification);
    const { count } = await tx.review.updateMany({
      where: { id: reviewId, aiScoredAt: null },
      data: {
        aiConfidence: classification.confidence,
        aiProvider: classifier,
        aiScoredAt: new Date(),
        suggestedReason: suggestion?.reason ?? null,
        suggestedSignals: suggestion?.signals ?? [],
      },
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
    unit.publish("reviewQueueChanged", { reviewIds: [reviewId], change: "SCORED" });
    return "RECORDED" as const;
  });
}

export type Decision = { action: "APPROVE" } | { action: "REJECT"; reason: RejectionReason; note?: string | null };

/**
 * Decides a pending review. The update only matches a PENDING row (and the version the operator
 * saw, when given), so of two simultaneous decisions exactly one wins; the other gets a conflict.
 */
export async function decideReview(
  deps: ReviewDeps,
  actor: Actor,
  input: { reviewId: string; decision: Decision; expectedVersion?: number | null },
): Promise<Review> {
  const { reviewId, decision, expectedVersion } = input;
  assertOperatorCan(actor, "operate");
  const note = decision.action === "REJECT" ? decision.note?.trim() || null : null;
  if (note && note.length > 2000) throw new InvalidInputError("The note is longer than 2000 characters", "note");
  const status: ReviewStatus = decision.action === "APPROVE" ? "APPROVED" : "REJECTED";
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
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
        suggestedReason: row.suggestedReason,
        actorId: actorId(actor),
      },
    });
    await recordAudit(tx, actor, {
      action: decision.action === "APPROVE" ? "review.approve" : "review.reject",
      targetType: "Review",
      targetId: reviewId,
      before: { status: "PENDING", ...(row.suggestedReason ? { suggestedReason: row.suggestedReason } : {}) },
      after: { status, ...(decision.action === "REJECT" ? { reason: decision.reason } : {}) },
      ...(note ? { reason: note } : {}),
    });
    unit.publish("reviewQueueChanged", { reviewIds: [reviewId], change: "DECIDED" });
    return row;
  });
}

/** Reverses a decision: the review goes back to the queue; the audit log keeps both. */
export async function reopenReview(
  deps: ReviewDeps,
  actor: Actor,
  input: { reviewId: string; reason: string },
): Promise<Review> {
  const { reviewId } = input;
  assertOperatorCan(actor, "operate");
  const why = input.reason.trim();
  if (why.length < 3 || why.length > 2000)
    throw new InvalidInputError("Say why the decision is reversed (3–2000 characters)", "reason");
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
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
    unit.publish("reviewQueueChanged", { reviewIds: [reviewId], change: "REOPENED" });
    return tx.review.findUniqueOrThrow({ where: { id: reviewId } });
  });
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
export async function bulkApproveReviews(
  deps: ReviewDeps,
  actor: Actor,
  input: { threshold: number },
): Promise<number> {
  const { threshold } = input;
  assertOperatorCan(actor, "operate");
  validateThreshold(threshold);
  const moderatorId = actorId(actor);
  return withAfterCommit(deps, async (effects) => {
    // One statement: the update, one decision row and one audit event per review. Row-by-row
    // inserts through the ORM were 50x slower than the bare UPDATE (see bench/src/reviews.ts).
    const approved = await deps.db.$queryRaw<{ id: string }[]>`
    WITH approved AS (
      UPDATE "Review"
         SET status = 'APPROVED', "moderatorId" = ${moderatorId}::uuid, "decidedAt" = now(),
             "rejectionReason" = NULL, "moderatorNote" = NULL, version = version + 1
       WHERE status = 'PENDING' AND "aiConfidence" >= ${threshold}
   RETURNING id, "aiConfidence", "suggestedReason"
    ), decisions AS (
      INSERT INTO "ReviewDecision" (id, "reviewId", action, confidence, bulk, "suggestedReason", "actorId", "createdAt")
      SELECT uuid_generate_v7(), id, 'APPROVE', "aiConfidence", true, "suggestedReason", ${moderatorId}::uuid, now() FROM approved
    ), audit AS (
      INSERT INTO "AuditEvent" (id, "actorKind", "actorId", "actorLabel", action, "targetType", "targetId", before, after, "createdAt")
      SELECT uuid_generate_v7(), ${actorKind(actor)}::"ActorKind", ${moderatorId}, ${actorLabel(actor)}, 'review.approve', 'Review',
             id::text, '{"status":"PENDING"}'::jsonb,
             jsonb_build_object('status', 'APPROVED', 'bulk', true, 'threshold', ${threshold}::float8), now()
        FROM approved
    )
    SELECT id::text AS id FROM approved`;
    publishDecided(effects, approved);
    return approved.length;
  });
}

/** Subscribers re-read the counts; a sample of ids is enough to refresh what they show. */
function publishDecided(effects: Pick<AfterCommit, "publish">, decided: readonly { id: string }[]): void {
  if (decided.length > 0)
    effects.publish("reviewQueueChanged", { reviewIds: decided.slice(0, 100).map((row) => row.id), change: "DECIDED" });
}

// ───────────────────────────── Finding reviews, and deciding many at once ─────────────────────────────

export interface ReviewQuery {
  status?: ReviewStatus | null;
  minConfidence?: number | null;
  maxConfidence?: number | null;
  regionId?: string | null;
  businessId?: string | null;
  /** Words in the review's body or its business's name (trigram-indexed ILIKE). */
  search?: string | null;
  /** Only reviews the classifier suggests rejecting (for any reason). */
  suggestedOnly?: boolean | null;
  /**
   * The businesses whose name the search matches, looked up first (withSearchBusinesses): the
   * review side is then one indexed OR (body trigram index, businessId index) instead of a join
   * PostgreSQL can only answer by reading every review.
   */
  searchBusinessIds?: readonly string[] | null;
}

export const MAX_SEARCH_LENGTH = 200;
/** Past this many businesses matching a search by name, the search joins instead of listing them. */
export const MAX_SEARCH_BUSINESSES = 1000;

/** The filter with the businesses its search matches by name listed (see `searchBusinessIds`). */
export async function withSearchBusinesses<Filter extends ReviewQuery | null | undefined>(
  db: DbTx,
  filter: Filter,
): Promise<Filter> {
  const search = filter?.search?.trim() ?? "";
  if (!filter || search === "" || search.length > MAX_SEARCH_LENGTH || filter.searchBusinessIds) return filter;
  const businesses = await db.business.findMany({
    where: { name: { contains: literalLike(search), mode: "insensitive" } },
    select: { id: true },
    take: MAX_SEARCH_BUSINESSES + 1,
  });
  if (businesses.length > MAX_SEARCH_BUSINESSES) return filter;
  return { ...filter, searchBusinessIds: businesses.map((business) => business.id) };
}

export type ReviewSort = "OLDEST" | "NEWEST" | "CONFIDENCE_ASC" | "CONFIDENCE_DESC" | "RATING_ASC" | "RATING_DESC";

export const REVIEW_SORTS: Record<ReviewSort, Prisma.ReviewOrderByWithRelationInput[]> = {
  OLDEST: [{ createdAt: "asc" }, { id: "asc" }],
  NEWEST: [{ createdAt: "desc" }, { id: "desc" }],
  CONFIDENCE_ASC: [{ aiConfidence: { sort: "asc", nulls: "last" } }, { id: "asc" }],
  CONFIDENCE_DESC: [{ aiConfidence: { sort: "desc", nulls: "last" } }, { id: "asc" }],
  RATING_ASC: [{ rating: "asc" }, { createdAt: "asc" }, { id: "asc" }],
  RATING_DESC: [{ rating: "desc" }, { createdAt: "asc" }, { id: "asc" }],
};

/** The one translation of a queue filter into a query: the list, its count and bulk decisions agree. */
export function reviewWhere(filter: ReviewQuery | null | undefined): Prisma.ReviewWhereInput {
  const search = filter?.search?.trim() ?? "";
  if (search.length > MAX_SEARCH_LENGTH)
    throw new InvalidInputError(`Search for at most ${MAX_SEARCH_LENGTH} characters`, "search");
  const { minConfidence, maxConfidence } = filter ?? {};
  if (minConfidence != null && maxConfidence != null && minConfidence > maxConfidence)
    throw new InvalidInputError("The minimum confidence is above the maximum", "minConfidence");
  return {
    status: filter?.status ?? "PENDING",
    ...(minConfidence != null || maxConfidence != null
      ? {
          aiConfidence: {
            ...(minConfidence != null ? { gte: minConfidence } : {}),
            ...(maxConfidence != null ? { lte: maxConfidence } : {}),
          },
        }
      : {}),
    ...(filter?.businessId ? { businessId: filter.businessId } : {}),
    ...(filter?.regionId ? { business: { regionId: filter.regionId } } : {}),
    ...(filter?.suggestedOnly ? { suggestedReason: { not: null } } : {}),
    ...(search
      ? {
          OR: [
            { body: { contains: literalLike(search), mode: "insensitive" } },
            filter?.searchBusinessIds
              ? { businessId: { in: [...filter.searchBusinessIds] } }
              : { business: { name: { contains: literalLike(search), mode: "insensitive" } } },
          ],
        }
      : {}),
  };
}

/** Which reviews a bulk decision acts on: chosen ones, or every pending review matching a filter. */
export type BulkTarget = { ids: readonly string[] } | { filter: ReviewQuery };

async function withSearchTarget(db: DbTx, target: BulkTarget): Promise<BulkTarget> {
  return "filter" in target ? { filter: await withSearchBusinesses(db, target.filter) } : target;
}

/** A reason, or each review's own suggested reason. */
export type BulkRejection = RejectionReason | "SUGGESTED";
export type BulkDecision = { action: "APPROVE" } | { action: "REJECT"; reason: BulkRejection; note?: string | null };

export interface BulkPreview {
  /** Pending reviews the decision would take. */
  total: number;
  /** Rejections per reason (all zero for an approval). */
  byReason: Record<RejectionReason, number>;
  /** Targeted pending reviews left alone: "reject the suggested" skips those without a suggestion. */
  skipped: number;
}

export const MAX_BULK_IDS = 1000;
export const MAX_BULK_BATCH = 500;

function targetWhere(target: BulkTarget): Prisma.ReviewWhereInput {
  if ("ids" in target) {
    if (target.ids.length === 0) throw new InvalidInputError("Choose at least one review", "ids");
    if (target.ids.length > MAX_BULK_IDS)
      throw new InvalidInputError(`Choose at most ${MAX_BULK_IDS} reviews, or act on the filter`, "ids");
    return { id: { in: [...target.ids] }, status: "PENDING" };
  }
  // Only pending reviews are decided, whatever status the filter shows.
  return { ...reviewWhere({ ...target.filter, status: "PENDING" }) };
}

function decisionWhere(target: BulkTarget, decision: BulkDecision): Prisma.ReviewWhereInput {
  const where = targetWhere(target);
  return decision.action === "REJECT" && decision.reason === "SUGGESTED"
    ? { AND: [where, { suggestedReason: { not: null } }] }
    : where;
}

/** What a bulk decision would do, counted per reason, for the operator to confirm first. */
export async function previewBulkDecision(db: Db, asked: BulkTarget, decision: BulkDecision): Promise<BulkPreview> {
  const target = await withSearchTarget(db, asked);
  const byReason: Record<RejectionReason, number> = { SPAM: 0, PROFANITY: 0, OFF_TOPIC: 0, OTHER: 0 };
  const [targeted, taken] = await Promise.all([
    db.review.count({ where: targetWhere(target) }),
    decision.action === "REJECT" && decision.reason === "SUGGESTED"
      ? db.review.groupBy({ by: ["suggestedReason"], where: decisionWhere(target, decision), _count: { _all: true } })
      : null,
  ]);
  if (decision.action === "APPROVE") return { total: targeted, byReason, skipped: 0 };
  if (!taken) {
    byReason[decision.reason as RejectionReason] = targeted;
    return { total: targeted, byReason, skipped: 0 };
  }
  let total = 0;
  for (const row of taken)
    if (row.suggestedReason) {
      byReason[row.suggestedReason] = row._count._all;
      total += row._count._all;
    }
  return { total, byReason, skipped: targeted - total };
}

export interface BulkOutcome {
  decided: number;
  byReason: Record<RejectionReason, number>;
  /** Pending reviews still matching after this batch (0 when done). */
  remaining: number;
}

/**
 * Decides up to `limit` matching pending reviews (oldest first) in one statement, with one
 * decision row and one audit event per review; each rejected "as suggested" gets its own
 * suggested reason. The dashboard calls it batch after batch to show progress on a large set;
 * a review someone decided meanwhile is simply no longer pending and is skipped.
 */
export async function decideReviewsInBulk(
  deps: ReviewDeps,
  actor: Actor,
  input: { target: BulkTarget; decision: BulkDecision; limit?: number },
): Promise<BulkOutcome> {
  const { db } = deps;
  const { target, decision, limit = MAX_BULK_BATCH } = input;
  assertOperatorCan(actor, "operate");
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BULK_BATCH)
    throw new InvalidInputError(`A batch decides 1 to ${MAX_BULK_BATCH} reviews`, "limit");
  const note = decision.action === "REJECT" ? decision.note?.trim() || null : null;
  if (note && note.length > 2000) throw new InvalidInputError("The note is longer than 2000 characters", "note");
  const where = decisionWhere(await withSearchTarget(db, target), decision);
  const chosen = await db.review.findMany({
    where,
    select: { id: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: limit,
  });
  const ids = chosen.map((row) => row.id);
  const moderatorId = actorId(actor);
  const status: ReviewStatus = decision.action === "APPROVE" ? "APPROVED" : "REJECTED";
  const fixedReason = decision.action === "REJECT" && decision.reason !== "SUGGESTED" ? decision.reason : null;
  const asSuggested = decision.action === "REJECT" && decision.reason === "SUGGESTED";
  return withAfterCommit(deps, async (effects) => {
    const decided =
      ids.length === 0
        ? []
        : await db.$queryRaw<{ id: string; reason: RejectionReason | null }[]>`
    WITH decided AS (
      UPDATE "Review"
         SET status = ${status}::"ReviewStatus", "moderatorId" = ${moderatorId}::uuid, "decidedAt" = now(),
             "rejectionReason" = CASE WHEN ${asSuggested}::boolean THEN "suggestedReason" ELSE ${fixedReason}::"RejectionReason" END,
             "moderatorNote" = ${note}::text, version = version + 1
       WHERE id = ANY(${ids}::uuid[]) AND status = 'PENDING'
         AND (NOT ${asSuggested}::boolean OR "suggestedReason" IS NOT NULL)
   RETURNING id, "aiConfidence", "rejectionReason", "suggestedReason"
    ), decisions AS (
      INSERT INTO "ReviewDecision" (id, "reviewId", action, reason, note, confidence, bulk, "suggestedReason", "actorId", "createdAt")
      SELECT uuid_generate_v7(), id, ${decision.action}::"ReviewDecisionAction", "rejectionReason", ${note}::text, "aiConfidence", true,
             "suggestedReason", ${moderatorId}::uuid, now() FROM decided
    ), audit AS (
      INSERT INTO "AuditEvent" (id, "actorKind", "actorId", "actorLabel", action, "targetType", "targetId", before, after, reason, "createdAt")
      SELECT uuid_generate_v7(), ${actorKind(actor)}::"ActorKind", ${moderatorId}::text, ${actorLabel(actor)}::text,
             ${decision.action === "APPROVE" ? "review.approve" : "review.reject"}::text, 'Review', id::text,
             jsonb_strip_nulls(jsonb_build_object('status', 'PENDING', 'suggestedReason', "suggestedReason")),
             jsonb_strip_nulls(jsonb_build_object('status', ${status}::text, 'reason', "rejectionReason", 'bulk', true,
                                                  'asSuggested', ${asSuggested}::boolean)),
             ${note}::text, now()
        FROM decided
    )
    SELECT id::text AS id, "rejectionReason"::text AS reason FROM decided`;
    const byReason: Record<RejectionReason, number> = { SPAM: 0, PROFANITY: 0, OFF_TOPIC: 0, OTHER: 0 };
    for (const row of decided) if (row.reason) byReason[row.reason] += 1;
    publishDecided(effects, decided);
    const remaining = await db.review.count({ where });
    return { decided: decided.length, byReason, remaining };
  });
}

export interface SuggestionOverrides {
  reason: RejectionReason;
  /** Decisions on reviews that carried this suggestion. */
  decisions: number;
  /** Of those, approvals, rejections for another reason, and rejections later reopened. */
  overridden: number;
}

/** How often operators disagree with the classifier's suggestions, per suggested reason. */
export async function suggestionOverrides(db: Db): Promise<SuggestionOverrides[]> {
  const rows = await db.$queryRaw<{ reason: RejectionReason; decisions: bigint; overridden: bigint }[]>`
    SELECT d."suggestedReason"::text AS reason, count(*) AS decisions,
           count(*) FILTER (WHERE d.action = 'APPROVE' OR d.reason <> d."suggestedReason" OR EXISTS (
             SELECT 1 FROM "ReviewDecision" later
              WHERE later."reviewId" = d."reviewId" AND later.action = 'REOPEN' AND later."createdAt" > d."createdAt")) AS overridden
      FROM "ReviewDecision" d
     WHERE d.action IN ('APPROVE', 'REJECT') AND d."suggestedReason" IS NOT NULL
     GROUP BY d."suggestedReason"`;
  return REJECTION_REASONS.map((reason) => {
    const row = rows.find((candidate) => candidate.reason === reason);
    return { reason, decisions: Number(row?.decisions ?? 0), overridden: Number(row?.overridden ?? 0) };
  });
}

/** What a Relay connection asks of one queue page: Prisma's cursor window plus the selection. */
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

/** The review-scoring-sweep job: pending reviews never scored go back to score-review. */
export function requeueUnscoredReviews(deps: Pick<CoreDeps, "db" | "jobs" | "clock">): Promise<number> {
  return sweepUnscoredReviews(deps.db, (ids) => scoreReviews(deps, ids), {
    olderThanMs: REVIEW_SCORING_SWEEP_GRACE_MS,
    now: deps.clock(),
  });
}
