import {
  bulkApproveReviews,
  countBulkEligible,
  decideReview,
  DEFAULT_BULK_APPROVE_THRESHOLD,
  MAX_REVIEW_LENGTH,
  reopenReview,
  reviewQueuePage,
  reviewQueueStats,
  submitReview,
} from "@steward/core/reviews";
import { ConflictError } from "@steward/core/errors";
import type { Prisma } from "@steward/db/client";
import { scoreReviewJobFor } from "@steward/worker/queue";
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
  authScopes: (review) => ({
    viewer: true,
    ...(review.status === "APPROVED" ? { token: "read" as const } : {}),
    $all: { token: "reviews:write", tokenId: review.submittedByTokenId },
  }),
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
}

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
  }),
});

const ReviewFilter = builder.inputType("ReviewFilter", {
  fields: (t) => ({
    status: t.field({ type: ReviewStatusEnum, required: false }),
    minConfidence: t.float({ required: false, validate: z.number().min(0).max(1) }),
    maxConfidence: t.float({ required: false, validate: z.number().min(0).max(1) }),
    regionId: t.id({ required: false }),
    businessId: t.globalID({ required: false, for: BusinessNode }),
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
    args: { filter: t.arg({ type: ReviewFilter, required: false }) },
    resolve: (query, _root, args, { db }) => {
      const filter = args.filter;
      const where: Prisma.ReviewWhereInput = {
        status: filter?.status ?? "PENDING",
        ...(filter?.minConfidence != null || filter?.maxConfidence != null
          ? {
              aiConfidence: {
                ...(filter?.minConfidence != null ? { gte: filter.minConfidence } : {}),
                ...(filter?.maxConfidence != null ? { lte: filter.maxConfidence } : {}),
              },
            }
          : {}),
        ...(filter?.businessId ? { businessId: filter.businessId.id } : {}),
        ...(filter?.regionId ? { business: { regionId: String(filter.regionId) } } : {}),
      };
      return reviewQueuePage(db, query, where);
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
    resolve: (query, _root, args, { db }) =>
      db.review.findMany({
        ...query,
        where: { businessId: args.businessId.id, status: "APPROVED" },
        orderBy: { id: "desc" },
      }),
  }),
  reviewQueueStats: t.field({
    type: ReviewQueueStats,
    authScopes: { viewer: true },
    args: { threshold: t.arg.float({ required: false, validate: thresholdArg.nullish() }) },
    resolve: async (_root, args, { db }) => {
      const threshold = args.threshold ?? DEFAULT_BULK_APPROVE_THRESHOLD;
      return { threshold, ...(await reviewQueueStats(db, threshold)) };
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
    resolve: async (_root, args, { db, events, actor, jobs }) => {
      const review = await submitReview(db, events, actor, {
        businessId: args.businessId.id,
        rating: args.rating,
        body: args.body,
      });
      // Deterministic job id: a retried request never scores the same review twice at once.
      const job = scoreReviewJobFor(review.id);
      await jobs.add(job.name, job.data, job.opts);
      return review;
    },
  }),
  approveReview: t.field({
    type: ReviewNode,
    authScopes: { operator: true },
    errors: { types: reviewErrors },
    args: { id: t.arg.globalID({ for: ReviewNode }), expectedVersion: t.arg.int({ required: false }) },
    resolve: (_root, args, { db, events, actor }) =>
      decideReview(db, events, actor, args.id.id, { action: "APPROVE" }, args.expectedVersion),
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
    resolve: (_root, args, { db, events, actor }) =>
      decideReview(
        db,
        events,
        actor,
        args.id.id,
        { action: "REJECT", reason: args.reason, note: args.note },
        args.expectedVersion,
      ),
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
    resolve: (_root, args, { db, events, actor }) => reopenReview(db, events, actor, args.id.id, args.reason),
  }),
  bulkApproveReviews: t.int({
    description: "Approve every pending review with confidence ≥ threshold (default 0.90). Returns how many.",
    authScopes: { operator: true },
    errors: { types: reviewErrors },
    args: { threshold: t.arg.float({ required: false, validate: thresholdArg.nullish() }) },
    resolve: (_root, args, { db, events, actor }) =>
      bulkApproveReviews(db, events, actor, args.threshold ?? DEFAULT_BULK_APPROVE_THRESHOLD),
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
    }),
  }),
}));
