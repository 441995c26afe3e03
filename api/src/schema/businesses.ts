// One business's whole story for complaint investigations (seed Part 2.5, playbook 4): its
// payments, placements, queue position, reviews and refund history, for operators only.
import { type BusinessEmail, emailsToBusiness } from "@steward/core/businessEmails";
import { queuePosition } from "@steward/core/placements";
import { builder } from "../builder.ts";
import { QueuePositionType } from "./placements.ts";
import { BusinessNode } from "./reviews.ts";

const BusinessStatusEnum = builder.enumType("BusinessStatus", {
  values: ["ACTIVE", "FLAGGED_FOR_REVIEW", "SUSPENDED", "ARCHIVED"] as const,
});

const HISTORY_LIMIT = 100;

const BusinessEmailStatusEnum = builder.enumType("BusinessEmailStatus", {
  values: {
    QUEUED: { description: "Waiting for its first attempt." },
    SENT: { description: "Accepted by the mail server." },
    RETRYING: { description: "An attempt failed; retried with backoff." },
    DEAD: { description: "Given up on (a permanent refusal or the last attempt); an alert was raised." },
  } as const,
});

const BusinessEmailType = builder.objectRef<BusinessEmail>("BusinessEmail").implement({
  description: "An email Steward sent (or is sending) to a business, with its delivery status.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The outbox message's id." }),
    kind: t.exposeString("kind", { description: 'e.g. "email.refund_approved", "email.placement_started".' }),
    to: t.exposeString("to"),
    subject: t.exposeString("subject"),
    status: t.expose("status", { type: BusinessEmailStatusEnum }),
    attempts: t.exposeInt("attempts"),
    lastError: t.exposeString("lastError", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    sentAt: t.expose("sentAt", { type: "DateTime", nullable: true }),
  }),
});

builder.prismaObjectFields("Business", (t) => ({
  email: t.exposeString("email", { authScopes: { viewer: true } }),
  status: t.expose("status", { type: BusinessStatusEnum, authScopes: { viewer: true } }),
  flagNote: t.exposeString("flagNote", { nullable: true, authScopes: { viewer: true } }),
  createdAt: t.expose("createdAt", { type: "DateTime", authScopes: { viewer: true } }),
  payments: t.relation("payments", {
    description: `Newest purchase first (the last ${HISTORY_LIMIT}).`,
    authScopes: { viewer: true },
    query: { orderBy: [{ purchasedAt: "desc" }, { id: "desc" }], take: HISTORY_LIMIT },
  }),
  placements: t.relation("placements", {
    description: `Newest purchase first (the last ${HISTORY_LIMIT}).`,
    authScopes: { viewer: true },
    query: { orderBy: [{ purchasedAt: "desc" }, { id: "desc" }], take: HISTORY_LIMIT },
  }),
  refundRequests: t.relation("refundRequests", {
    description: `Newest first (the last ${HISTORY_LIMIT}).`,
    authScopes: { viewer: true },
    query: { orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: HISTORY_LIMIT },
  }),
  reviews: t.relatedConnection("reviews", {
    description: "Every review, any status, newest first.",
    authScopes: { viewer: true },
    cursor: "id",
    maxSize: 100,
    query: { orderBy: [{ createdAt: "desc" }, { id: "desc" }] },
    totalCount: true,
  }),
  emails: t.field({
    type: [BusinessEmailType],
    description: `Every email sent to the business, newest first (the last ${HISTORY_LIMIT}), with delivery status.`,
    authScopes: { viewer: true },
    select: { id: true },
    resolve: (business, _args, { db }) => emailsToBusiness(db, business.id, HISTORY_LIMIT),
  }),
  queuePosition: t.field({
    type: QueuePositionType,
    authScopes: { viewer: true },
    select: { id: true },
    resolve: (business, _args, { db }) => queuePosition(db, business.id),
  }),
}));

builder.queryFields((t) => ({
  business: t.prismaField({
    type: "Business",
    nullable: true,
    description: "One business with its history (for complaints).",
    authScopes: { viewer: true },
    args: { id: t.arg.globalID({ for: BusinessNode }) },
    resolve: (query, _root, args, { db }) => db.business.findUnique({ ...query, where: { id: args.id.id } }),
  }),
}));
