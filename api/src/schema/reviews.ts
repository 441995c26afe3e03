import {
  type BulkDecision,
  type BulkTarget,
  bulkApproveReviews,
  countBulkEligible,
  decideReview,
  decideReviewsInBulk,
  DEFAULT_BULK_APPROVE_THRESHOLD,
  MAX_BULK_BATCH,
  MAX_BULK_IDS,
  MAX_REVIEW_LENGTH,
  MAX_SEARCH_LENGTH,
  previewBulkDecision,
  reopenReview,
  type ReviewQuery,
  reviewQueueStats,
  submitReview,
  suggestionOverrides,
  type SuggestionOverrides,
} from "@steward/core/reviews";
import { ConflictError, InvalidInputError } from "@steward/core/errors";
import { mayReadReview } from "@steward/core/permissions";
import { countReviews, publishedReviews, reviewQueuePage } from "@steward/core/reads/reviewPages";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";

const ReviewStatusEnum = builder.enumType("ReviewStatus", { values: ["PENDING", "APPROVED", "REJECTED"] as const });
const RejectionReasonEnum = builder.enumType("RejectionReason", {
  values: ["SPAM", "PROFANITY", "OFF_TOPIC", "OTHER"] as const,
});
const DecisionActionEnum = builder.enumType("ReviewDecisionAction", {
  values: ["APPROVE", "REJECT", "REOPEN"] as const,
});
const ReviewSortEnum = builder.enumType("ReviewSort", {
  values: ["OLDEST", "NEWEST", "CONFIDENCE_ASC", "CONFIDENCE_DESC", "RATING_ASC", "RATING_DESC"] as const,
});
const BulkRejectionEnum = builder.enumType("BulkRejectionReason", {
  description: "A rejection reason, or SUGGESTED: each review's own suggested reason.",
  values: ["SPAM", "PROFANITY", "OFF_TOPIC", "OTHER", "SUGGESTED"] as const,
});

builder.prismaObject("Region", {
  authScopes: { $any: { viewer: true, token: "read" } },
  fields: (t) => ({
    id: t.exposeID("id"),
    slug: t.exposeString("slug"),
    name: t.exposeString("name"),
  }),
});

export const BusinessNode = builder.prismaNode("Business", {
  id: { field: "id" },
  authScopes: { $any: { viewer: true, token: "read" } },
  fields: (t) => ({
    name: t.exposeString("name"),
    region: t.relation("region"),
  }),
});

const ReviewNode = builder.prismaNode("Review", {
  id: { field: "id" },
  // Integrations with `read` may read published reviews, and a `reviews:write` token the reviews
  // it submitted (any status); the rest of the queue is for operators. Who moderated, and how,
  // is for operators only (the fields below that say so).
  authScopes: (review, { actor }) => mayReadReview(actor, review),
  fields: (t) => ({
    business: t.relation("business"),
    rating: t.exposeInt("rating"),
    body: t.exposeString("body"),
    source: t.exposeString("source", { authScopes: { viewer: true } }),
    status: t.expose("status", { type: ReviewStatusEnum }),
    aiConfidence: t.exposeFloat("aiConfidence", { nullable: true, authScopes: { viewer: true } }),
    aiProvider: t.exposeString("aiProvider", {
      nullable: true,
      description: "Which classifier produced the score.",
      authScopes: { viewer: true },
    }),
    rejectionReason: t.expose("rejectionReason", {
      type: RejectionReasonEnum,
      nullable: true,
      authScopes: { viewer: true },
    }),
    suggestedReason: t.expose("suggestedReason", {
      type: RejectionReasonEnum,
      nullable: true,
      description: "For a low-confidence review: the rejection reason the classifier's signals point at.",
      authScopes: { viewer: true },
    }),
    suggestedSignals: t.exposeStringList("suggestedSignals", {
      description: "The signals behind the suggestion, strongest first.",
      authScopes: { viewer: true },
    }),
    moderatorNote: t.exposeString("moderatorNote", { nullable: true, authScopes: { viewer: true } }),
    moderator: t.relation("moderator", { nullable: true, authScopes: { viewer: true } }),
    decidedAt: t.expose("decidedAt", { type: "DateTime", nullable: true }),
    version: t.exposeInt("version", {
      description: "Pass it back when deciding, to detect a concurrent change.",
      authScopes: { viewer: true },
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    scores: t.relation("scores", { query: { orderBy: { createdAt: "asc" } }, authScopes: { viewer: true } }),
    decisions: t.relation("decisions", { query: { orderBy: { createdAt: "asc" } }, authScopes: { viewer: true } }),
  }),
});

builder.prismaObject("ReviewScore", {
  authScopes: { viewer: true },
  fields: (t) => ({
    classifier: t.exposeString("classifier"),
    confidence: t.exposeFloat("confidence"),
    signals: t.expose("signals", { type: "JSON" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.prismaObject("ReviewDecision", {
  authScopes: { viewer: true },
  fields: (t) => ({
    action: t.expose("action", { type: DecisionActionEnum }),
    reason: t.expose("reason", { type: RejectionReasonEnum, nullable: true }),
    note: t.exposeString("note", { nullable: true }),
    bulk: t.exposeBoolean("bulk"),
    suggestedReason: t.expose("suggestedReason", { type: RejectionReasonEnum, nullable: true }),
    actor: t.relation("actor", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

interface QueueStatsShape {
  threshold: number;
  pending: number;
  autoEligible: number;
  approved: number;
  rejectedByReason: Record<string, number>;
  confidentApprovals: number;
  confidentApprovalsReversed: number;
  suggestionOverrides: SuggestionOverrides[];
}

const SuggestionOverridesRef = builder.objectRef<SuggestionOverrides>("SuggestionOverrides").implement({
  description: "How often operators decided otherwise than the classifier suggested, for one suggested reason.",
  fields: (t) => ({
    reason: t.field({ type: RejectionReasonEnum, resolve: (row) => row.reason }),
    decisions: t.exposeInt("decisions"),
    overridden: t.exposeInt("overridden", {
      description: "Approved, rejected for another reason, or rejected as suggested and later reopened.",
    }),
  }),
});

const RejectedCount = builder.objectRef<{ reason: string; count: number }>("RejectedCount").implement({
  fields: (t) => ({
    reason: t.field({ type: RejectionReasonEnum, resolve: (row) => row.reason as "SPAM" }),
    count: t.exposeInt("count"),
  }),
});

const ReviewQueueStats = builder.objectRef<QueueStatsShape>("ReviewQueueStats").implement({
  fields: (t) => ({
    threshold: t.exposeFloat("threshold"),
    pending: t.exposeInt("pending"),
    autoEligible: t.exposeInt("autoEligible", { description: "Pending reviews at or above the threshold." }),
    approved: t.exposeInt("approved"),
    rejectedByReason: t.field({
      type: [RejectedCount],
      resolve: (stats) => Object.entries(stats.rejectedByReason).map(([reason, count]) => ({ reason, count })),
    }),
    confidentApprovals: t.exposeInt("confidentApprovals"),
    confidentApprovalsReversed: t.exposeInt("confidentApprovalsReversed", {
      description: "Approvals at ≥ threshold later reopened: how often the threshold was wrong.",
    }),
    suggestionOverrides: t.field({ type: [SuggestionOverridesRef], resolve: (stats) => stats.suggestionOverrides }),
  }),
});

const ReviewFilter = builder.inputType("ReviewFilter", {
  fields: (t) => ({
    status: t.field({ type: ReviewStatusEnum, required: false }),
    minConfidence: t.float({ required: false, validate: z.number().min(0).max(1) }),
    maxConfidence: t.float({ required: false, validate: z.number().min(0).max(1) }),
    regionId: t.id({ required: false }),
    businessId: t.globalID({ required: false, for: BusinessNode }),
    search: t.string({
      required: false,
      description: "Words in the review's text or its business's name.",
      validate: z.string().max(MAX_SEARCH_LENGTH).nullish(),
    }),
    suggestedOnly: t.boolean({ required: false, description: "Only reviews with a suggested rejection reason." }),
  }),
});

type ReviewFilterArgs = {
  status?: "PENDING" | "APPROVED" | "REJECTED" | null;
  minConfidence?: number | null;
  maxConfidence?: number | null;
  regionId?: string | number | null;
  businessId?: { id: string } | null;
  search?: string | null;
  suggestedOnly?: boolean | null;
};

function toReviewQuery(filter: ReviewFilterArgs | null | undefined): ReviewQuery {
  return {
    status: filter?.status ?? null,
    minConfidence: filter?.minConfidence ?? null,
    maxConfidence: filter?.maxConfidence ?? null,
    regionId: filter?.regionId != null ? String(filter.regionId) : null,
    businessId: filter?.businessId?.id ?? null,
    search: filter?.search ?? null,
    suggestedOnly: filter?.suggestedOnly ?? null,
  };
}

const BulkDecisionInput = builder.inputType("BulkReviewDecisionInput", {
  description: "Chosen reviews (ids) or every pending review matching a filter, and what to decide.",
  fields: (t) => ({
    ids: t.globalIDList({ required: false, for: ReviewNode, validate: z.array(z.unknown()).max(MAX_BULK_IDS) }),
    filter: t.field({ type: ReviewFilter, required: false }),
    action: t.field({ type: DecisionActionEnum }),
    reason: t.field({ type: BulkRejectionEnum, required: false, description: "Required to reject." }),
    note: t.string({ required: false, validate: z.string().max(2000).nullish() }),
  }),
});

type BulkDecisionArgs = {
  ids?: { id: string }[] | null;
  filter?: ReviewFilterArgs | null;
  action: "APPROVE" | "REJECT" | "REOPEN";
  reason?: "SPAM" | "PROFANITY" | "OFF_TOPIC" | "OTHER" | "SUGGESTED" | null;
  note?: string | null;
};

function toBulk(input: BulkDecisionArgs): { target: BulkTarget; decision: BulkDecision } {
  if ((input.ids == null) === (input.filter == null))
    throw new InvalidInputError("Give either the reviews' ids or a filter", "ids");
  const target: BulkTarget = input.ids
    ? { ids: input.ids.map((id) => id.id) }
    : { filter: toReviewQuery(input.filter) };
  if (input.action === "REOPEN") throw new InvalidInputError("Reopen reviews one by one, with a reason", "action");
  if (input.action === "APPROVE") return { target, decision: { action: "APPROVE" } };
  if (!input.reason) throw new InvalidInputError("Choose a reason (or SUGGESTED) to reject", "reason");
  return { target, decision: { action: "REJECT", reason: input.reason, note: input.note } };
}

const ReasonCount = builder.objectRef<{ reason: string; count: number }>("ReasonCount").implement({
  fields: (t) => ({
    reason: t.field({ type: RejectionReasonEnum, resolve: (row) => row.reason as "SPAM" }),
    count: t.exposeInt("count"),
  }),
});

function reasonCounts(byReason: Record<string, number>): { reason: string; count: number }[] {
  return Object.entries(byReason).map(([reason, count]) => ({ reason, count }));
}

const BulkDecisionPreviewRef = builder
  .objectRef<{ total: number; byReason: Record<string, number>; skipped: number }>("BulkReviewDecisionPreview")
  .implement({
    fields: (t) => ({
      total: t.exposeInt("total", { description: "Pending reviews the decision would take." }),
      byReason: t.field({ type: [ReasonCount], resolve: (preview) => reasonCounts(preview.byReason) }),
      skipped: t.exposeInt("skipped", { description: "Targeted reviews left alone (no suggestion to follow)." }),
    }),
  });

const BulkDecisionOutcomeRef = builder
  .objectRef<{ decided: number; byReason: Record<string, number>; remaining: number }>("BulkReviewDecisionOutcome")
  .implement({
    fields: (t) => ({
      decided: t.exposeInt("decided"),
      byReason: t.field({ type: [ReasonCount], resolve: (outcome) => reasonCounts(outcome.byReason) }),
      remaining: t.exposeInt("remaining", { description: "Still to decide: call again with the same input." }),
    }),
  });

const thresholdArg = z.number().min(0.5).max(1);

builder.queryFields((t) => ({
  reviews: t.prismaConnection({
    type: "Review",
    cursor: "id",
    maxSize: 100,
    description: "The moderation queue: oldest first. Defaults to pending reviews.",
    authScopes: { viewer: true },
    args: {
      filter: t.arg({ type: ReviewFilter, required: false }),
      sort: t.arg({ type: ReviewSortEnum, required: false, description: "Default: oldest first." }),
    },
    resolve: (query, _root, args, { deps }) =>
      reviewQueuePage(deps, query, toReviewQuery(args.filter), args.sort ?? "OLDEST"),
  }),
  reviewCount: t.int({
    description: 'How many reviews match the filter (the queue\'s "N of M").',
    authScopes: { viewer: true },
    args: { filter: t.arg({ type: ReviewFilter, required: false }) },
    resolve: (_root, args, { deps }) => countReviews(deps, toReviewQuery(args.filter)),
  }),
  bulkReviewDecisionPreview: t.field({
    type: BulkDecisionPreviewRef,
    description: "What decideReviewsInBulk would do with this input, counted per reason (to confirm first).",
    authScopes: { viewer: true },
    args: { input: t.arg({ type: BulkDecisionInput }) },
    resolve: (_root, args, { db }) => {
      const { target, decision } = toBulk(args.input);
      return previewBulkDecision(db, target, decision);
    },
  }),
  review: t.prismaField({
    type: "Review",
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.globalID({ for: ReviewNode }) },
    resolve: (query, _root, args, { db }) => db.review.findUnique({ ...query, where: { id: args.id.id } }),
  }),
  publishedReviews: t.prismaConnection({
    type: "Review",
    cursor: "id",
    maxSize: 100,
    description: "Approved reviews of a business, newest first (what the marketplace shows).",
    authScopes: { $any: { viewer: true, token: "read" } },
    args: { businessId: t.arg.globalID({ for: BusinessNode }) },
    resolve: (query, _root, args, { deps }) => publishedReviews(deps, query, args.businessId.id),
  }),
  reviewQueueStats: t.field({
    type: ReviewQueueStats,
    authScopes: { viewer: true },
    args: { threshold: t.arg.float({ required: false, validate: thresholdArg.nullish() }) },
    resolve: async (_root, args, { db }) => {
      const threshold = args.threshold ?? DEFAULT_BULK_APPROVE_THRESHOLD;
      const [stats, overrides] = await Promise.all([reviewQueueStats(db, threshold), suggestionOverrides(db)]);
      return { threshold, ...stats, suggestionOverrides: overrides };
    },
  }),
  bulkApprovableCount: t.int({
    description: "How many pending reviews bulkApproveReviews would approve now (to confirm first).",
    authScopes: { viewer: true },
    args: { threshold: t.arg.float({ required: false, validate: thresholdArg.nullish() }) },
    resolve: (_root, args, { db }) => countBulkEligible(db, args.threshold ?? DEFAULT_BULK_APPROVE_THRESHOLD),
  }),
}));

const reviewErrors = [...commonMutationErrors, ConflictError];

builder.mutationFields((t) => ({
  submitReview: t.field({
    type: ReviewNode,
    description: "An integration submits a review; it is stored as pending and scored asynchronously.",
    authScopes: { token: "reviews:write" },
    errors: { types: commonMutationErrors },
    args: {
      businessId: t.arg.globalID({ for: BusinessNode }),
      rating: t.arg.int({ validate: z.number().int().min(1).max(5) }),
      body: t.arg.string({ validate: z.string().trim().min(1).max(MAX_REVIEW_LENGTH) }),
    },
    resolve: (_root, args, { actor, deps }) =>
      submitReview(deps, actor, { businessId: args.businessId.id, rating: args.rating, body: args.body }),
  }),
  approveReview: t.field({
    type: ReviewNode,
    authScopes: { operator: true },
    errors: { types: reviewErrors },
    args: { id: t.arg.globalID({ for: ReviewNode }), expectedVersion: t.arg.int({ required: false }) },
    resolve: (_root, args, { deps, actor }) =>
      decideReview(deps, actor, {
        reviewId: args.id.id,
        decision: { action: "APPROVE" },
        expectedVersion: args.expectedVersion,
      }),
  }),
  rejectReview: t.field({
    type: ReviewNode,
    authScopes: { operator: true },
    errors: { types: reviewErrors },
    args: {
      id: t.arg.globalID({ for: ReviewNode }),
      reason: t.arg({ type: RejectionReasonEnum }),
      note: t.arg.string({ required: false, validate: z.string().max(2000).nullish() }),
      expectedVersion: t.arg.int({ required: false }),
    },
    resolve: (_root, args, { deps, actor }) =>
      decideReview(deps, actor, {
        reviewId: args.id.id,
        decision: { action: "REJECT", reason: args.reason, note: args.note },
        expectedVersion: args.expectedVersion,
      }),
  }),
  reopenReview: t.field({
    type: ReviewNode,
    description: "Reverse a decision: the review returns to the queue. Audited with the reason.",
    authScopes: { operator: true },
    errors: { types: reviewErrors },
    args: {
      id: t.arg.globalID({ for: ReviewNode }),
      reason: t.arg.string({ validate: z.string().trim().min(3).max(2000) }),
    },
    resolve: (_root, args, { deps, actor }) => reopenReview(deps, actor, { reviewId: args.id.id, reason: args.reason }),
  }),
  decideReviewsInBulk: t.field({
    type: BulkDecisionOutcomeRef,
    description:
      "Approve or reject chosen reviews, or every pending one matching a filter, up to `limit` per call (oldest first). " +
      "reason SUGGESTED rejects each review with its own suggested reason. Audited per review; reversible with reopenReview.",
    authScopes: { operator: true },
    errors: { types: reviewErrors },
    args: {
      input: t.arg({ type: BulkDecisionInput }),
      limit: t.arg.int({ required: false, validate: z.number().int().min(1).max(MAX_BULK_BATCH).nullish() }),
    },
    resolve: (_root, args, { deps, actor }) =>
      decideReviewsInBulk(deps, actor, { ...toBulk(args.input), limit: args.limit ?? MAX_BULK_BATCH }),
  }),
  bulkApproveReviews: t.int({
    description: "Approve every pending review with confidence ≥ threshold (default 0.90). Returns how many.",
    authScopes: { operator: true },
    errors: { types: reviewErrors },
    args: { threshold: t.arg.float({ required: false, validate: thresholdArg.nullish() }) },
    resolve: (_root, args, { deps, actor }) =>
      bulkApproveReviews(deps, actor, { threshold: args.threshold ?? DEFAULT_BULK_APPROVE_THRESHOLD }),
  }),
}));

builder.subscriptionFields((t) => ({
  reviewQueueChanged: t.field({
    type: ReviewQueueStats,
    description: "The queue's counts, pushed whenever a review arrives, is scored or decided.",
    authScopes: { viewer: true },
    subscribe: (_root, _args, { events }) => events.subscribe("reviewQueueChanged"),
    resolve: async (_event, _args, { db }) => ({
      threshold: DEFAULT_BULK_APPROVE_THRESHOLD,
      ...(await reviewQueueStats(db, DEFAULT_BULK_APPROVE_THRESHOLD)),
      suggestionOverrides: await suggestionOverrides(db),
    }),
  }),
}));
