// Payments (recorded from Stripe), refund requests and their decisions, and the Stripe webhook
// log. Resolvers validate, call core, and map typed domain errors; core does the work.
import { ConflictError } from "@steward/core/errors";
import { refundRequestPage } from "@steward/core/reads/refundPages";
import {
  approveRefund,
  denyRefund,
  PaymentNotRefundableError,
  RefundAlreadyRequestedError,
  refundEligibility,
  RefundIneligibleError,
  requestRefund,
} from "@steward/core/refunds";
import { webhookEventWhere } from "@steward/core/webhookEvents";
import type { Prisma } from "@steward/db/client";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors, ErrorInterface } from "./errors.ts";
import { BusinessNode } from "./reviews.ts";

const PaymentStatusEnum = builder.enumType("PaymentStatus", {
  values: ["PENDING", "SUCCEEDED", "FAILED", "REFUNDED", "PARTIALLY_REFUNDED"] as const,
});
const RefundRequestStatusEnum = builder.enumType("RefundRequestStatus", {
  values: ["PENDING", "PROCESSING", "APPROVED", "DENIED", "FAILED"] as const,
});
export const WebhookEventStatusEnum = builder.enumType("WebhookEventStatus", {
  values: ["RECEIVED", "PROCESSED", "FAILED", "HELD"] as const,
});

// ───────────────────────────── Errors ─────────────────────────────

builder.objectType(RefundIneligibleError, {
  name: "RefundIneligibleError",
  description: "Past the 3-day refund window (now − purchase ≥ 72 h). No override exists.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    purchasedAt: t.expose("purchasedAt", { type: "DateTime" }),
    daysElapsed: t.exposeInt("daysElapsed"),
  }),
});
builder.objectType(PaymentNotRefundableError, {
  name: "PaymentNotRefundableError",
  description: "The payment failed, has not completed, or was already refunded.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ paymentStatus: t.expose("paymentStatus", { type: PaymentStatusEnum }) }),
});
builder.objectType(RefundAlreadyRequestedError, {
  name: "RefundAlreadyRequestedError",
  description: "The payment already has an open refund request.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ refundRequestId: t.exposeString("refundRequestId") }),
});

// ───────────────────────────── Types ─────────────────────────────

const EligibilityType = builder.objectRef<ReturnType<typeof refundEligibility>>("RefundEligibility").implement({
  description: "The 3-day rule evaluated now by the server: eligible only while now − purchasedAt < 72 h.",
  fields: (t) => ({
    eligible: t.exposeBoolean("eligible"),
    daysElapsed: t.exposeInt("daysElapsed"),
    hoursElapsed: t.float({ resolve: (e) => Math.floor(e.elapsedMs / 360_000) / 10 }),
    hoursLeft: t.float({ resolve: (e) => Math.floor(e.msLeft / 360_000) / 10 }),
    closesAt: t.expose("closesAt", { type: "DateTime" }),
    expiresSoon: t.exposeBoolean("expiresSoon", { description: "Eligible with less than 12 hours left." }),
  }),
});

export const PaymentNode = builder.prismaNode("Payment", {
  id: { field: "id" },
  authScopes: { $any: { viewer: true, token: "refunds:write" } },
  fields: (t) => ({
    stripeChargeId: t.exposeString("stripeChargeId"),
    business: t.relation("business"),
    amountCents: t.exposeInt("amountCents", { description: "Minor units (cents)." }),
    refundedCents: t.exposeInt("refundedCents"),
    currency: t.exposeString("currency", { description: "ISO 4217, lower case as Stripe sends it." }),
    status: t.expose("status", { type: PaymentStatusEnum }),
    purchasedAt: t.expose("purchasedAt", { type: "DateTime" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    placement: t.relation("placement", { nullable: true }),
    refundRequests: t.relation("refundRequests", { query: { orderBy: { createdAt: "asc" } } }),
    refundEligibility: t.field({
      type: EligibilityType,
      resolve: (payment) => refundEligibility(payment.purchasedAt, new Date()),
    }),
  }),
});

export const RefundRequestNode = builder.prismaNode("RefundRequest", {
  id: { field: "id" },
  authScopes: { $any: { viewer: true, token: "refunds:write" } },
  fields: (t) => ({
    status: t.expose("status", { type: RefundRequestStatusEnum }),
    reason: t.exposeString("reason", { description: "Why the business asked." }),
    requestedBy: t.exposeString("requestedBy", { authScopes: { viewer: true } }),
    payment: t.relation("payment"),
    business: t.relation("business"),
    amountCents: t.int({
      select: { payment: { select: { amountCents: true } } },
      resolve: (request) => request.payment.amountCents,
    }),
    currency: t.string({
      select: { payment: { select: { currency: true } } },
      resolve: (request) => request.payment.currency,
    }),
    purchasedAt: t.field({
      type: "DateTime",
      select: { payment: { select: { purchasedAt: true } } },
      resolve: (request) => request.payment.purchasedAt,
    }),
    eligibility: t.field({
      type: EligibilityType,
      description: "Evaluated now; the decision re-evaluates it on the server.",
      select: { payment: { select: { purchasedAt: true } } },
      resolve: (request) => refundEligibility(request.payment.purchasedAt, new Date()),
    }),
    decidedBy: t.relation("decidedBy", { nullable: true, authScopes: { viewer: true } }),
    decidedAt: t.expose("decidedAt", { type: "DateTime", nullable: true }),
    denialNote: t.exposeString("denialNote", { nullable: true }),
    stripeRefundId: t.exposeString("stripeRefundId", { nullable: true }),
    failureMessage: t.exposeString("failureMessage", {
      nullable: true,
      authScopes: { viewer: true },
      description: "Why Stripe has not confirmed (PROCESSING, retried automatically) or refused (FAILED).",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

export const StripeWebhookEventNode = builder.prismaNode("StripeWebhookEvent", {
  id: { field: "id" },
  authScopes: { viewer: true },
  fields: (t) => ({
    eventId: t.exposeString("id", { description: "Stripe's event id (evt_…)." }),
    type: t.exposeString("type"),
    objectId: t.exposeString("objectId", { nullable: true }),
    status: t.expose("status", { type: WebhookEventStatusEnum }),
    attempts: t.exposeInt("attempts"),
    lastError: t.exposeString("lastError", { nullable: true }),
    receivedAt: t.expose("receivedAt", { type: "DateTime" }),
    processedAt: t.expose("processedAt", { type: "DateTime", nullable: true }),
  }),
});

// ───────────────────────────── Queries ─────────────────────────────

const PaymentFilter = builder.inputType("PaymentFilter", {
  fields: (t) => ({
    status: t.field({ type: PaymentStatusEnum, required: false }),
    businessId: t.globalID({ required: false, for: BusinessNode }),
    stripeChargeId: t.string({ required: false, validate: z.string().max(255).nullish() }),
    from: t.field({ type: "DateTime", required: false, description: "Purchased at or after." }),
    to: t.field({ type: "DateTime", required: false, description: "Purchased before." }),
  }),
});

const RefundRequestFilter = builder.inputType("RefundRequestFilter", {
  fields: (t) => ({
    status: t.field({ type: RefundRequestStatusEnum, required: false, description: "Default PENDING." }),
    businessId: t.globalID({ required: false, for: BusinessNode }),
  }),
});

const WebhookEventFilter = builder.inputType("WebhookEventFilter", {
  fields: (t) => ({
    status: t.field({ type: WebhookEventStatusEnum, required: false }),
    type: t.string({ required: false, validate: z.string().max(100).nullish() }),
    chargeId: t.string({
      required: false,
      description: "A charge's events: about the charge itself or one of its refunds (ch_…).",
      validate: z.string().max(255).nullish(),
    }),
  }),
});

builder.queryFields((t) => ({
  payments: t.prismaConnection({
    type: "Payment",
    cursor: "id",
    maxSize: 200,
    description: "Payments recorded from Stripe, newest purchase first.",
    authScopes: { viewer: true },
    args: { filter: t.arg({ type: PaymentFilter, required: false }) },
    resolve: (query, _root, args, { db }) => {
      const filter = args.filter;
      const where: Prisma.PaymentWhereInput = {
        ...(filter?.status ? { status: filter.status } : {}),
        ...(filter?.businessId ? { businessId: filter.businessId.id } : {}),
        ...(filter?.stripeChargeId ? { stripeChargeId: filter.stripeChargeId } : {}),
        ...(filter?.from || filter?.to
          ? {
              purchasedAt: {
                ...(filter.from ? { gte: filter.from } : {}),
                ...(filter.to ? { lt: filter.to } : {}),
              },
            }
          : {}),
      };
      return db.payment.findMany({ ...query, where, orderBy: [{ purchasedAt: "desc" }, { id: "desc" }] });
    },
  }),
  payment: t.prismaField({
    type: "Payment",
    nullable: true,
    authScopes: { $any: { viewer: true, token: "refunds:write" } },
    args: { id: t.arg.globalID({ for: PaymentNode }) },
    resolve: (query, _root, args, { db }) => db.payment.findUnique({ ...query, where: { id: args.id.id } }),
  }),
  refundRequests: t.prismaConnection({
    type: "RefundRequest",
    cursor: "id",
    maxSize: 100,
    description: "Refund requests, oldest purchase first (closest to the 3-day deadline on top). Default: pending.",
    authScopes: { viewer: true },
    args: { filter: t.arg({ type: RefundRequestFilter, required: false }) },
    resolve: (query, _root, args, { deps }) =>
      refundRequestPage(deps, query, { status: args.filter?.status, businessId: args.filter?.businessId?.id }),
  }),
  refundRequest: t.prismaField({
    type: "RefundRequest",
    nullable: true,
    authScopes: { $any: { viewer: true, token: "refunds:write" } },
    args: { id: t.arg.globalID({ for: RefundRequestNode }) },
    resolve: (query, _root, args, { db }) => db.refundRequest.findUnique({ ...query, where: { id: args.id.id } }),
  }),
  webhookEvents: t.prismaConnection({
    type: "StripeWebhookEvent",
    cursor: "id",
    maxSize: 200,
    description: "Stripe webhook events as received, newest first: status, attempts, last error.",
    authScopes: { viewer: true },
    args: { filter: t.arg({ type: WebhookEventFilter, required: false }) },
    resolve: (query, _root, args, { db }) =>
      db.stripeWebhookEvent.findMany({
        ...query,
        where: webhookEventWhere(args.filter),
        orderBy: [{ receivedAt: "desc" }, { id: "desc" }],
      }),
  }),
}));

// ───────────────────────────── Mutations ─────────────────────────────

builder.mutationFields((t) => ({
  requestRefund: t.field({
    type: RefundRequestNode,
    description:
      "Ask for a refund of a payment (by id, or by the Stripe charge id an integration knows). Full refunds only; the operator decides.",
    authScopes: { $any: { operator: true, token: "refunds:write" } },
    errors: { types: [...commonMutationErrors, PaymentNotRefundableError, RefundAlreadyRequestedError] },
    args: {
      paymentId: t.arg.globalID({ required: false, for: PaymentNode }),
      stripeChargeId: t.arg.string({ required: false, validate: z.string().trim().min(1).max(255).nullish() }),
      reason: t.arg.string({ validate: z.string().trim().min(3).max(2000) }),
      amountCents: t.arg.int({
        required: false,
        description: "If given, must be the full amount (positive).",
        validate: z.number().int().positive().nullish(),
      }),
      currency: t.arg.string({
        required: false,
        validate: z
          .string()
          .regex(/^[a-zA-Z]{3}$/)
          .nullish(),
      }),
    },
    resolve: (_root, args, context) =>
      requestRefund(context.deps, context.actor, {
        paymentId: args.paymentId?.id ?? null,
        stripeChargeId: args.stripeChargeId ?? null,
        reason: args.reason,
        amountCents: args.amountCents ?? null,
        currency: args.currency ?? null,
      }),
  }),
  approveRefund: t.field({
    type: RefundRequestNode,
    description:
      "Approve: the request becomes PROCESSING at once, and the refund job refunds the full amount at Stripe (exactly once), marks payment and placement refunded and emails the business; the request then becomes APPROVED (refundRequestChanged tells). While Stripe is unreachable it stays PROCESSING and is retried automatically.",
    authScopes: { operator: true },
    errors: { types: [...commonMutationErrors, ConflictError, RefundIneligibleError, PaymentNotRefundableError] },
    args: { id: t.arg.globalID({ for: RefundRequestNode }) },
    resolve: (_root, args, context) => approveRefund(context.deps, context.actor, args.id.id),
  }),
  denyRefund: t.field({
    type: RefundRequestNode,
    description: "Close the request with a reason; the business is emailed the purchase date and the days elapsed.",
    authScopes: { operator: true },
    errors: { types: [...commonMutationErrors, ConflictError] },
    args: {
      id: t.arg.globalID({ for: RefundRequestNode }),
      reason: t.arg.string({ validate: z.string().trim().min(3).max(2000) }),
    },
    resolve: (_root, args, context) => denyRefund(context.deps, context.actor, args.id.id, args.reason),
  }),
}));

// ───────────────────────────── Subscriptions ─────────────────────────────

builder.subscriptionFields((t) => ({
  refundRequestChanged: t.prismaField({
    type: "RefundRequest",
    description: "A refund request was created or changed status (from any API instance or worker).",
    authScopes: { viewer: true },
    subscribe: (_root, _args, { events }) => events.subscribe("refundRequestChanged"),
    resolve: (query, event: { refundRequestId: string }, _args, { db }) =>
      db.refundRequest.findUniqueOrThrow({ ...query, where: { id: event.refundRequestId } }),
  }),
}));
