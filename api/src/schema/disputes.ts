// Disputes: flag and unflag a business with a note, the flagged list (the overview's disputes
// task), and the queue-position playbook on one field with its email to the trainer.
import {
  checkQueueDispute,
  emailQueuePosition,
  flagBusiness,
  previewQueuePositionEmail,
  type QueueDisputeCheck,
  type QueueEmailDraft,
  type QueueOrderProblem,
  unflagBusiness,
} from "@steward/core/disputes";
import { repeatRefundersOf } from "@steward/core/alertRules";
import { ConflictError } from "@steward/core/errors";
import type { Business } from "@steward/db/client";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";
import { QueuePositionType } from "./placements.ts";
import { BusinessNode } from "./reviews.ts";

interface RepeatRefunder {
  business: Business | null;
  refunds: number;
}

const RepeatRefunderType = builder.objectRef<RepeatRefunder>("RepeatRefunder").implement({
  description: "A business a refund-rate alert found refunded more than once in its window (possible abuse).",
  fields: (t) => ({
    business: t.field({
      type: BusinessNode,
      nullable: true,
      description: "Null when it no longer exists.",
      resolve: (entry) => entry.business,
    }),
    refunds: t.exposeInt("refunds", { description: "Refunded purchases in the alert's window." }),
  }),
});

builder.prismaObjectFields("Alert", (t) => ({
  repeatRefunders: t.field({
    type: [RepeatRefunderType],
    description:
      "For a refund-rate alert: the businesses refunded more than once in its window, most refunds first (to flag from its page). Empty for other alerts.",
    authScopes: { viewer: true },
    select: { labels: true },
    resolve: async (alert, _args, { db }) => {
      const named = repeatRefundersOf(alert.labels);
      if (named.length === 0) return [];
      const businesses = await db.business.findMany({ where: { id: { in: named.map((entry) => entry.businessId) } } });
      const byId = new Map(businesses.map((business) => [business.id, business]));
      return named.map((entry) => ({ business: byId.get(entry.businessId) ?? null, refunds: entry.refunds }));
    },
  }),
}));

const QueueOrderProblemType = builder.objectRef<QueueOrderProblem>("QueueOrderProblem").implement({
  description: "A place where the region's queue is not first-in-first-out by payment time.",
  fields: (t) => ({
    businessId: t.globalID({ resolve: (problem) => ({ type: "Business", id: problem.businessId }) }),
    businessName: t.exposeString("businessName"),
    problem: t.exposeString("problem"),
  }),
});

const QueueDisputeCheckType = builder.objectRef<QueueDisputeCheck>("QueueDisputeCheck").implement({
  description: "Playbook 4 (queue position dispute) in one answer: where it stands, who is ahead, and the FIFO check.",
  fields: (t) => ({
    queue: t.field({ type: QueuePositionType, resolve: (check) => check.queue }),
    regionName: t.exposeString("regionName"),
    paidAt: t.expose("paidAt", {
      type: "DateTime",
      nullable: true,
      description: "When this business paid for the placement it waits with.",
    }),
    fifoHolds: t.exposeBoolean("fifoHolds", {
      description: "The queue follows payment order and nobody who paid later is featured meanwhile.",
    }),
    problems: t.field({ type: [QueueOrderProblemType], resolve: (check) => check.problems }),
  }),
});

const QueueEmailPreviewType = builder.objectRef<QueueEmailDraft>("QueueEmailPreview").implement({
  fields: (t) => ({
    to: t.string({ resolve: (draft) => draft.to }),
    subject: t.string({ resolve: (draft) => draft.email.subject }),
    text: t.string({ resolve: (draft) => draft.email.text }),
  }),
});

const QueueEmailSentType = builder.objectRef<{ queued: boolean }>("QueueEmailSent").implement({
  fields: (t) => ({
    queued: t.exposeBoolean("queued", {
      description: "False when the same email already went today (sending twice emails once).",
    }),
  }),
});

builder.prismaObjectFields("Business", (t) => ({
  flaggedAt: t.expose("flaggedAt", { type: "DateTime", nullable: true, authScopes: { viewer: true } }),
  queueDispute: t.field({
    type: QueueDisputeCheckType,
    authScopes: { viewer: true },
    select: { id: true },
    resolve: (business, _args, { db }) => checkQueueDispute(db, business.id),
  }),
  queuePositionEmail: t.field({
    type: QueueEmailPreviewType,
    nullable: true,
    description: "The queue-position email as it would be sent; null when the business is not waiting.",
    authScopes: { operator: true },
    select: { id: true },
    resolve: (business, _args, { db, env }) => previewQueuePositionEmail(db, business.id, env.MARKETPLACE_TIME_ZONE),
  }),
}));

builder.queryFields((t) => ({
  flaggedBusinesses: t.prismaConnection({
    type: "Business",
    cursor: "id",
    maxSize: 100,
    description: "Businesses flagged for review (disputes), most recently flagged first.",
    authScopes: { viewer: true },
    totalCount: (_parent, _args, { db }) => db.business.count({ where: { status: "FLAGGED_FOR_REVIEW" } }),
    resolve: (query, _root, _args, { db }) =>
      db.business.findMany({
        ...query,
        where: { status: "FLAGGED_FOR_REVIEW" },
        orderBy: [{ flaggedAt: "desc" }, { id: "desc" }],
      }),
  }),
}));

const note = z.string().max(2000);
const disputeErrors = [...commonMutationErrors, ConflictError];

builder.mutationFields((t) => ({
  // t.field, not t.prismaField: a prisma mutation with `errors` fails on an empty selection.
  flagBusiness: t.field({
    type: BusinessNode,
    description: "Flag a business for review (a dispute) with a note; flagging again updates the note.",
    authScopes: { operator: true },
    errors: { types: disputeErrors },
    args: { id: t.arg.globalID({ for: BusinessNode }), note: t.arg.string({ validate: note }) },
    resolve: (_root, args, { deps, actor }) => flagBusiness(deps, actor, { businessId: args.id.id, note: args.note }),
  }),
  unflagBusiness: t.field({
    type: BusinessNode,
    description: "Settle a dispute: the business is active again; the note says how it was settled (audited).",
    authScopes: { operator: true },
    errors: { types: disputeErrors },
    args: { id: t.arg.globalID({ for: BusinessNode }), note: t.arg.string({ validate: note }) },
    resolve: (_root, args, { deps, actor }) => unflagBusiness(deps, actor, { businessId: args.id.id, note: args.note }),
  }),
  emailQueuePosition: t.field({
    type: QueueEmailSentType,
    description: "Email the trainer their queue position, the ETA and how the FIFO queue works (playbook 4).",
    authScopes: { operator: true },
    errors: { types: disputeErrors },
    args: { businessId: t.arg.globalID({ for: BusinessNode }) },
    resolve: async (_root, args, context) => {
      const sent = await emailQueuePosition(context.deps, context.actor, args.businessId.id);
      return { queued: sent.queued };
    },
  }),
}));
