import { literalLike } from "@steward/core/text";
import { NotFoundError } from "@steward/core/errors";
import { queuePosition, setRegionSlots } from "@steward/core/placements";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors } from "./errors.ts";
import { BusinessNode } from "./reviews.ts";

const PlacementStatusEnum = builder.enumType("PlacementStatus", {
  values: ["QUEUED", "ACTIVE", "EXPIRED", "REFUNDED", "CANCELLED"] as const,
});

builder.prismaObject("Placement", {
  authScopes: { $any: { viewer: true, token: "read" } },
  fields: (t) => ({
    id: t.exposeID("id"),
    business: t.relation("business"),
    status: t.expose("status", { type: PlacementStatusEnum }),
    purchasedAt: t.expose("purchasedAt", { type: "DateTime" }),
    activatedAt: t.expose("activatedAt", { type: "DateTime", nullable: true }),
    featuredUntil: t.expose("featuredUntil", { type: "DateTime", nullable: true }),
  }),
});

builder.prismaObjectField("Region", "featuredSlots", (t) => t.exposeInt("featuredSlots"));
builder.prismaObjectField("Region", "activePlacements", (t) =>
  t.relation("placements", {
    query: { where: { status: "ACTIVE" }, orderBy: [{ featuredUntil: "asc" }, { id: "asc" }] },
  }),
);
builder.prismaObjectField("Region", "queue", (t) =>
  t.relation("placements", {
    description: "Queued placements in FIFO order (position = index + 1).",
    query: { where: { status: "QUEUED" }, orderBy: [{ purchasedAt: "asc" }, { id: "asc" }] },
  }),
);

const BusinessAhead = builder
  .objectRef<{ businessId: string; name: string; purchasedAt: Date }>("BusinessAhead")
  .implement({
    fields: (t) => ({
      name: t.exposeString("name"),
      purchasedAt: t.expose("purchasedAt", { type: "DateTime" }),
    }),
  });

const QueuePositionStatus = builder.enumType("FeaturedStatus", {
  values: ["ACTIVE", "QUEUED", "NOT_FEATURED"] as const,
});

export const QueuePositionType = builder
  .objectRef<Awaited<ReturnType<typeof queuePosition>>>("QueuePosition")
  .implement({
    description: "Why a business is or is not featured, and when it will be (playbook 4).",
    fields: (t) => ({
      status: t.expose("status", { type: QueuePositionStatus }),
      position: t.exposeInt("position", { nullable: true }),
      businessesAhead: t.field({ type: [BusinessAhead], resolve: (answer) => answer.businessesAhead }),
      featuredUntil: t.expose("featuredUntil", { type: "DateTime", nullable: true }),
      estimatedActivation: t.expose("estimatedActivation", { type: "DateTime", nullable: true }),
    }),
  });

builder.queryFields((t) => ({
  regions: t.prismaField({
    type: ["Region"],
    authScopes: { $any: { viewer: true, token: "read" } },
    resolve: (query, _root, _args, { db }) => db.region.findMany({ ...query, orderBy: { name: "asc" } }),
  }),
  region: t.prismaField({
    type: "Region",
    nullable: true,
    authScopes: { $any: { viewer: true, token: "read" } },
    args: { id: t.arg.id({ validate: z.string().uuid() }) },
    resolve: (query, _root, args, { db }) => db.region.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
  businesses: t.prismaConnection({
    type: "Business",
    cursor: "id",
    maxSize: 100,
    description: "Businesses by name (for looking one up).",
    authScopes: { $any: { viewer: true, token: "read" } },
    args: { search: t.arg.string({ required: false, validate: z.string().max(100).nullish() }) },
    resolve: (query, _root, args, { db }) =>
      db.business.findMany({
        ...query,
        where: args.search ? { name: { contains: literalLike(args.search), mode: "insensitive" } } : {},
        orderBy: [{ name: "asc" }, { id: "asc" }],
      }),
  }),
  queuePosition: t.field({
    type: QueuePositionType,
    authScopes: { $any: { viewer: true, token: "read" } },
    errors: { types: [NotFoundError] },
    args: { businessId: t.arg.globalID({ for: BusinessNode }) },
    resolve: (_root, args, { db }) => queuePosition(db, args.businessId.id),
  }),
}));

builder.mutationFields((t) => ({
  setRegionSlots: t.prismaField({
    type: "Region",
    description: "ADMIN only: how many featured slots a region has.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: {
      regionId: t.arg.id({ validate: z.string().uuid() }),
      slots: t.arg.int({ validate: z.number().int().min(1).max(100) }),
    },
    resolve: async (query, _root, args, { db, deps, actor }) => {
      const regionId = String(args.regionId);
      await setRegionSlots(deps, actor, { regionId, slots: args.slots });
      return db.region.findUniqueOrThrow({ ...query, where: { id: regionId } });
    },
  }),
}));
