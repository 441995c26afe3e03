// Data in: the marketplace's catalog (token scope catalog:write, or an ADMIN), region prices
// (ADMIN) and the charges held for review because they did not pay them (OPERATOR).
import {
  archiveBusiness,
  BusinessHasPlacementError,
  CATALOG_GRAPHQL_MAX_ROWS,
  CatalogImportRejectedError,
  type CatalogImportReport,
  importCatalogReleasing,
  upsertBusiness,
  upsertRegion,
} from "@steward/core/catalog";
import { ConflictError } from "@steward/core/errors";
import { acceptHeldPayment, refundHeldPayment, setRegionPrice } from "@steward/core/holds";
import { RefundIneligibleError } from "@steward/core/refunds";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors, ErrorInterface } from "./errors.ts";
import { PaymentNode, RefundRequestNode } from "./payments.ts";

const HoldReasonEnum = builder.enumType("HoldReason", {
  description: "Why a charge did not (yet) buy a placement.",
  values: {
    BUSINESS_UNKNOWN: { description: "The charge names a business not in the catalog yet; processed when it arrives." },
    PRICE_MISMATCH: {
      description: "Amount or currency differ from the region's placement price; an operator decides.",
    },
  },
});
const HoldResolutionEnum = builder.enumType("HoldResolution", { values: ["ACCEPTED", "REFUNDED"] as const });

// ───────────────────────────── Fields on existing types ─────────────────────────────

builder.prismaObjectFields("Region", (t) => ({
  externalId: t.exposeString("externalId", { nullable: true, description: "The marketplace's own id." }),
  placementPriceCents: t.exposeInt("placementPriceCents", { description: "A placement's price here, minor units." }),
  placementCurrency: t.exposeString("placementCurrency", { description: "ISO 4217, lower case." }),
}));

builder.prismaObjectFields("Business", (t) => ({
  externalId: t.exposeString("externalId", { nullable: true, description: "The marketplace's own id." }),
  archivedAt: t.expose("archivedAt", { type: "DateTime", nullable: true, authScopes: { viewer: true } }),
}));

builder.prismaObjectField("Placement", "endReason", (t) =>
  t.exposeString("endReason", { nullable: true, description: "Why it ended early (e.g. its business was archived)." }),
);

builder.prismaObjectFields("Payment", (t) => ({
  holdReason: t.expose("holdReason", { type: HoldReasonEnum, nullable: true }),
  holdDetail: t.exposeString("holdDetail", { nullable: true }),
  heldAt: t.expose("heldAt", { type: "DateTime", nullable: true }),
  holdResolution: t.expose("holdResolution", { type: HoldResolutionEnum, nullable: true }),
  holdResolvedAt: t.expose("holdResolvedAt", { type: "DateTime", nullable: true }),
}));

builder.prismaObjectFields("StripeWebhookEvent", (t) => ({
  heldReason: t.expose("heldReason", { type: HoldReasonEnum, nullable: true }),
  heldBusinessRef: t.exposeString("heldBusinessRef", {
    nullable: true,
    description: "While HELD: the business id the charge names.",
  }),
}));

// ───────────────────────────── Errors and results ─────────────────────────────

builder.objectType(BusinessHasPlacementError, {
  name: "BusinessHasPlacementError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    externalId: t.exposeString("externalId"),
    regionExternalId: t.exposeString("regionExternalId"),
  }),
});

const CatalogLineErrorType = builder.objectRef<CatalogImportReport["errors"][number]>("CatalogLineError").implement({
  fields: (t) => ({
    line: t.exposeInt("line", { description: "1-based: the row's position in the list or file (after a header)." }),
    externalId: t.exposeString("externalId", { nullable: true }),
    reason: t.exposeString("reason"),
  }),
});

const CatalogImportReportType = builder.objectRef<CatalogImportReport>("CatalogImportReport").implement({
  fields: (t) => ({
    total: t.exposeInt("total"),
    valid: t.exposeInt("valid"),
    created: t.exposeInt("created"),
    updated: t.exposeInt("updated"),
    unchanged: t.exposeInt("unchanged"),
    skipped: t.exposeInt("skipped"),
    errorCount: t.exposeInt("errorCount"),
    errors: t.field({ type: [CatalogLineErrorType], resolve: (report) => report.errors }),
    stored: t.exposeBoolean("stored"),
    releasedCharges: t.int({ resolve: (report) => report.releasedEventIds.length }),
    durationMs: t.exposeInt("durationMs"),
  }),
});

builder.objectType(CatalogImportRejectedError, {
  name: "CatalogImportRejectedError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ report: t.field({ type: CatalogImportReportType, resolve: (error) => error.report }) }),
});

const RegionUpsertResult = builder.objectRef<{ regionId: string; created: boolean; changed: boolean }>(
  "RegionUpsertResult",
);
RegionUpsertResult.implement({
  fields: (t) => ({
    region: t.prismaField({
      type: "Region",
      resolve: (query, result, _args, { db }) =>
        db.region.findUniqueOrThrow({ ...query, where: { id: result.regionId } }),
    }),
    created: t.exposeBoolean("created"),
    changed: t.exposeBoolean("changed"),
  }),
});

const BusinessUpsertResult = builder.objectRef<{
  businessId: string;
  created: boolean;
  changed: boolean;
  releasedCharges: number;
  cancelledPlacements: number;
}>("BusinessUpsertResult");
BusinessUpsertResult.implement({
  fields: (t) => ({
    business: t.prismaField({
      type: "Business",
      resolve: (query, result, _args, { db }) =>
        db.business.findUniqueOrThrow({ ...query, where: { id: result.businessId } }),
    }),
    created: t.exposeBoolean("created"),
    changed: t.exposeBoolean("changed"),
    releasedCharges: t.exposeInt("releasedCharges", {
      description: "Held charges naming this business, now queued for processing.",
    }),
    cancelledPlacements: t.exposeInt("cancelledPlacements", { description: "Queued placements that left the queue." }),
  }),
});

const externalId = z.string().trim().min(1).max(200);
const CatalogBusinessInput = builder.inputType("CatalogBusinessInput", {
  description: "One business as the marketplace has it, keyed by its own id.",
  fields: (t) => ({
    externalId: t.string({ required: true }),
    regionId: t.string({ required: true, description: "The region's externalId." }),
    name: t.string({ required: true }),
    email: t.string({ required: true }),
  }),
});

const catalogWriter = { $any: { admin: true, token: "catalog:write" } } as const;

// ───────────────────────────── Queries ─────────────────────────────

builder.queryFields((t) => ({
  heldPayments: t.prismaField({
    type: [PaymentNode],
    description: "Charges recorded but held for review (PRICE_MISMATCH), oldest first: accept or refund each.",
    authScopes: { viewer: true },
    resolve: (query, _root, _args, { db }) =>
      db.payment.findMany({
        ...query,
        where: { holdReason: { not: null }, holdResolution: null, status: "SUCCEEDED" },
        orderBy: [{ heldAt: "asc" }, { id: "asc" }],
        take: 200,
      }),
  }),
}));

// ───────────────────────────── Mutations ─────────────────────────────

builder.mutationFields((t) => ({
  upsertRegion: t.field({
    type: RegionUpsertResult,
    description: "Create or rename a region by the marketplace's id (idempotent). Prices are set by an ADMIN.",
    authScopes: catalogWriter,
    errors: { types: commonMutationErrors },
    args: {
      externalId: t.arg.string({ validate: externalId }),
      name: t.arg.string({ validate: z.string().trim().min(1).max(200) }),
    },
    resolve: async (_root, args, { deps, actor }) => {
      const result = await upsertRegion(deps, actor, { externalId: args.externalId, name: args.name });
      return { regionId: result.region.id, created: result.created, changed: result.changed };
    },
  }),
  upsertBusiness: t.field({
    type: BusinessUpsertResult,
    description:
      "Create or update a business by the marketplace's id (idempotent). Refused if it would move a business whose placement is active or queued.",
    authScopes: catalogWriter,
    errors: { types: [...commonMutationErrors, BusinessHasPlacementError] },
    args: { input: t.arg({ type: CatalogBusinessInput }) },
    resolve: async (_root, args, context) => {
      const result = await upsertBusiness(context.deps, context.actor, args.input);
      return {
        businessId: result.business.id,
        created: result.created,
        changed: result.changed,
        releasedCharges: result.releasedEventIds.length,
        cancelledPlacements: 0,
      };
    },
  }),
  archiveBusiness: t.field({
    type: BusinessUpsertResult,
    description: "The business left the marketplace: history kept, queued placements leave the queue with a reason.",
    authScopes: catalogWriter,
    errors: { types: commonMutationErrors },
    args: { externalId: t.arg.string({ validate: externalId }) },
    resolve: async (_root, args, { deps, actor }) => {
      const result = await archiveBusiness(deps, actor, { externalId: args.externalId });
      return {
        businessId: result.business.id,
        created: false,
        changed: result.changed,
        releasedCharges: 0,
        cancelledPlacements: result.cancelledPlacementIds.length,
      };
    },
  }),
  importCatalog: t.field({
    type: CatalogImportReportType,
    description: `Import many businesses at once (at most ${CATALOG_GRAPHQL_MAX_ROWS}; larger catalogs: \`npm run steward -- import\`). Every row is checked; with any bad row nothing is stored unless skipInvalid.`,
    authScopes: catalogWriter,
    errors: { types: [...commonMutationErrors, CatalogImportRejectedError] },
    args: {
      rows: t.arg({ type: [CatalogBusinessInput], validate: z.array(z.unknown()).max(CATALOG_GRAPHQL_MAX_ROWS) }),
      skipInvalid: t.arg.boolean({ required: false, defaultValue: false }),
    },
    resolve: (_root, args, context) =>
      importCatalogReleasing(
        context.deps,
        context.actor,
        args.rows.map((row, index) => ({ line: index + 1, fields: { ...row } })),
        { skipInvalid: args.skipInvalid ?? false },
      ),
  }),
  setRegionPrice: t.prismaField({
    type: "Region",
    description: "ADMIN only: what a featured placement costs in a region. Charges for another amount are held.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: {
      regionId: t.arg.id({ validate: z.string().uuid() }),
      priceCents: t.arg.int({ validate: z.number().int().min(1).max(100_000_000) }),
      // Checked in core, after authorization: a non-admin learns nothing from the shape of its input.
      currency: t.arg.string({ validate: z.string().max(10) }),
    },
    resolve: async (query, _root, args, { db, deps, actor }) => {
      const region = await setRegionPrice(deps, actor, {
        regionId: String(args.regionId),
        priceCents: args.priceCents,
        currency: args.currency,
      });
      return db.region.findUniqueOrThrow({ ...query, where: { id: region.id } });
    },
  }),
  acceptHeldPayment: t.field({
    type: PaymentNode,
    description: "The held charge stands as paid: its placement is bought now (active, or queued by purchase time).",
    authScopes: { operator: true },
    errors: { types: [...commonMutationErrors, ConflictError] },
    args: {
      paymentId: t.arg.globalID({ for: PaymentNode }),
      note: t.arg.string({ required: false, validate: z.string().trim().max(2000).nullish() }),
    },
    resolve: async (_root, args, context) =>
      (await acceptHeldPayment(context.deps, context.actor, { paymentId: args.paymentId.id, note: args.note ?? null }))
        .payment,
  }),
  refundHeldPayment: t.field({
    type: RefundRequestNode,
    description: "Refund a held charge in full, through the ordinary refund path (exactly once, within 3 days).",
    authScopes: { operator: true },
    errors: { types: [...commonMutationErrors, ConflictError, RefundIneligibleError] },
    args: {
      paymentId: t.arg.globalID({ for: PaymentNode }),
      reason: t.arg.string({ validate: z.string().trim().min(3).max(2000) }),
    },
    resolve: (_root, args, context) =>
      refundHeldPayment(context.deps, context.actor, { paymentId: args.paymentId.id, reason: args.reason }),
  }),
}));
