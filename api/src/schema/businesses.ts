// One business's whole story for complaint investigations (seed Part 2.5, playbook 4): its
// payments, placements, queue position, reviews and refund history, for operators only.
import { queuePosition } from "@steward/core/placements";
import { builder } from "../builder.ts";
import { QueuePositionType } from "./placements.ts";
import { BusinessNode } from "./reviews.ts";

const BusinessStatusEnum = builder.enumType("BusinessStatus", {
  values: ["ACTIVE", "FLAGGED_FOR_REVIEW", "SUSPENDED", "ARCHIVED"] as const,
});

const HISTORY_LIMIT = 100;

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
