// Payment reconciliation: runs (archived evidence), their discrepancies and the operator's fixes.
// Resolvers validate, call core, and map typed domain errors; core does the work.
import { ConflictError } from "@steward/core/errors";
import { StripeEventUnprocessableError } from "@steward/core/payments";
import type { Totals } from "@steward/core/reconciliation/compare";
import {
  FIXES_BY_KIND,
  FixNotApplicableError,
  resolveDiscrepancy,
  StripeDisagreesError,
  StripeUnavailableError,
} from "@steward/core/reconciliation/resolve";
import { openDiscrepancyCount, startReconciliation } from "@steward/core/reconciliation/runs";
import { z } from "zod";
import { builder } from "../builder.ts";
import { commonMutationErrors, ErrorInterface } from "./errors.ts";
import { PaymentNode } from "./payments.ts";

const ReconciliationStatusEnum = builder.enumType("ReconciliationStatus", {
  values: ["RUNNING", "COMPLETED", "FAILED"] as const,
});
const DiscrepancyKindEnum = builder.enumType("DiscrepancyKind", {
  values: ["MISSING_IN_DB", "MISSING_IN_STRIPE", "AMOUNT_MISMATCH", "CURRENCY_MISMATCH", "REFUND_MISMATCH"] as const,
});
const DiscrepancyResolutionEnum = builder.enumType("DiscrepancyResolution", {
  values: ["IMPORTED", "MARKED_FAILED", "MARKED_REFUNDED", "ACCEPTED"] as const,
});
const DiscrepancyActionEnum = builder.enumType("DiscrepancyAction", {
  description: "IMPORT a missed charge, MARK_FAILED ours, MARK_REFUNDED ours to match Stripe, or ACCEPT with a note.",
  values: ["IMPORT", "MARK_FAILED", "MARK_REFUNDED", "ACCEPT"] as const,
});
const JobTriggerRef = builder.enumType("ReconciliationTrigger", {
  values: ["SCHEDULE", "MANUAL", "EVENT", "RETRY"] as const,
});

// ───────────────────────────── Errors ─────────────────────────────

builder.objectType(FixNotApplicableError, {
  name: "FixNotApplicableError",
  description: "The fix does not apply to this discrepancy's kind (or charge). Nothing changed.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    kind: t.expose("kind", { type: DiscrepancyKindEnum }),
    action: t.expose("action", { type: DiscrepancyActionEnum }),
  }),
});
builder.objectType(StripeDisagreesError, {
  name: "StripeDisagreesError",
  description: "Stripe, re-checked just now, contradicts the fix. Nothing changed.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ stripeStatus: t.exposeString("stripeStatus", { nullable: true }) }),
});
builder.objectType(StripeUnavailableError, {
  name: "StripeUnavailableError",
  description: "Stripe could not be reached for the re-check. Nothing changed.",
  interfaces: [ErrorInterface],
});
builder.objectType(StripeEventUnprocessableError, {
  name: "StripeChargeUnprocessableError",
  description: "The charge cannot be recorded (e.g. it names a business that does not exist). Nothing changed.",
  interfaces: [ErrorInterface],
});

// ───────────────────────────── Types ─────────────────────────────

interface CurrencyTotals {
  currency: string;
  stripeCount: number;
  stripeAmountCents: number;
  stripeRefundedCents: number;
  dbCount: number;
  dbAmountCents: number;
  dbRefundedCents: number;
}

const CurrencyTotalsType = builder.objectRef<CurrencyTotals>("ReconciliationTotals").implement({
  description: "Succeeded charges in the period on each side, in minor units, for one currency.",
  fields: (t) => ({
    currency: t.exposeString("currency"),
    stripeCount: t.exposeInt("stripeCount"),
    stripeAmountCents: t.exposeInt("stripeAmountCents"),
    stripeRefundedCents: t.exposeInt("stripeRefundedCents"),
    dbCount: t.exposeInt("dbCount"),
    dbAmountCents: t.exposeInt("dbAmountCents"),
    dbRefundedCents: t.exposeInt("dbRefundedCents"),
  }),
});

function sideBySide(stripeTotals: unknown, dbTotals: unknown): CurrencyTotals[] {
  const stripe = (stripeTotals ?? {}) as Totals;
  const ours = (dbTotals ?? {}) as Totals;
  return [...new Set([...Object.keys(stripe), ...Object.keys(ours)])].sort().map((currency) => ({
    currency,
    stripeCount: stripe[currency]?.count ?? 0,
    stripeAmountCents: stripe[currency]?.amountCents ?? 0,
    stripeRefundedCents: stripe[currency]?.refundedCents ?? 0,
    dbCount: ours[currency]?.count ?? 0,
    dbAmountCents: ours[currency]?.amountCents ?? 0,
    dbRefundedCents: ours[currency]?.refundedCents ?? 0,
  }));
}

export const DiscrepancyNode = builder.prismaNode("Discrepancy", {
  id: { field: "id" },
  authScopes: { viewer: true },
  fields: (t) => ({
    kind: t.expose("kind", { type: DiscrepancyKindEnum }),
    stripeChargeId: t.exposeString("stripeChargeId"),
    payment: t.field({
      type: PaymentNode,
      nullable: true,
      description: "Our payment, when we have one (after an import too).",
      resolve: (d, _args, { db }) => (d.paymentId ? db.payment.findUnique({ where: { id: d.paymentId } }) : null),
    }),
    stripeAmountCents: t.exposeInt("stripeAmountCents", { nullable: true }),
    dbAmountCents: t.exposeInt("dbAmountCents", { nullable: true }),
    stripeCurrency: t.exposeString("stripeCurrency", { nullable: true }),
    dbCurrency: t.exposeString("dbCurrency", { nullable: true }),
    stripeStatus: t.exposeString("stripeStatus", { nullable: true, description: "Null: Stripe has no such charge." }),
    dbStatus: t.exposeString("dbStatus", { nullable: true, description: "Null: we never recorded it." }),
    chargedAt: t.expose("chargedAt", { type: "DateTime", nullable: true }),
    fixes: t.field({
      type: [DiscrepancyActionEnum],
      description: "The fixes that apply to this kind (empty once resolved).",
      resolve: (d) => (d.resolvedAt ? [] : [...FIXES_BY_KIND[d.kind]]),
    }),
    resolution: t.expose("resolution", { type: DiscrepancyResolutionEnum, nullable: true }),
    resolutionNote: t.exposeString("resolutionNote", { nullable: true }),
    resolvedBy: t.relation("resolvedBy", { nullable: true }),
    resolvedAt: t.expose("resolvedAt", { type: "DateTime", nullable: true }),
    run: t.relation("run"),
  }),
});

export const ReconciliationRunNode = builder.prismaNode("ReconciliationRun", {
  id: { field: "id" },
  authScopes: { viewer: true },
  fields: (t) => ({
    periodStart: t.expose("periodStart", { type: "DateTime" }),
    periodEnd: t.expose("periodEnd", { type: "DateTime" }),
    status: t.expose("status", { type: ReconciliationStatusEnum }),
    trigger: t.expose("trigger", { type: JobTriggerRef }),
    startedBy: t.relation("startedBy", { nullable: true }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    error: t.exposeString("error", { nullable: true }),
    chargesCompared: t.exposeInt("chargesCompared", {
      description: "Stripe charges in the period read so far (all of them once completed).",
    }),
    inFlightCount: t.exposeInt("inFlightCount", {
      description: "Charges left out because a webhook about them was still being processed.",
    }),
    discrepancyCount: t.exposeInt("discrepancyCount"),
    openDiscrepancyCount: t.int({ resolve: (run, _args, { db }) => openDiscrepancyCount(db, run.id) }),
    clean: t.boolean({
      description: "Completed, and every discrepancy is resolved.",
      resolve: async (run, _args, { db }) =>
        run.status === "COMPLETED" && (await openDiscrepancyCount(db, run.id)) === 0,
    }),
    totals: t.field({
      type: [CurrencyTotalsType],
      description: "Per currency, Stripe's and ours side by side.",
      resolve: (run) => sideBySide(run.stripeTotals, run.dbTotals),
    }),
    csvUrl: t.string({ resolve: (run) => `/exports/reconciliation/${run.id}.csv` }),
    jsonUrl: t.string({ resolve: (run) => `/exports/reconciliation/${run.id}.json` }),
    discrepancies: t.relatedConnection("discrepancies", {
      cursor: "id",
      maxSize: 500,
      args: { open: t.arg.boolean({ required: false, description: "Only unresolved ones." }) },
      query: (args) => ({
        where: args.open ? { resolvedAt: null } : {},
        orderBy: [{ chargedAt: "asc" }, { id: "asc" }],
      }),
    }),
  }),
});

// ───────────────────────────── Queries ─────────────────────────────

builder.queryFields((t) => ({
  reconciliationRuns: t.prismaConnection({
    type: "ReconciliationRun",
    cursor: "id",
    maxSize: 100,
    description: "Reconciliation runs, newest first: the archived evidence.",
    authScopes: { viewer: true },
    resolve: (query, _root, _args, { db }) =>
      db.reconciliationRun.findMany({ ...query, orderBy: [{ startedAt: "desc" }, { id: "desc" }] }),
  }),
  reconciliationRun: t.prismaField({
    type: "ReconciliationRun",
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.globalID({ for: ReconciliationRunNode }) },
    resolve: (query, _root, args, { db }) => db.reconciliationRun.findUnique({ ...query, where: { id: args.id.id } }),
  }),
}));

// ───────────────────────────── Mutations ─────────────────────────────

builder.mutationFields((t) => ({
  startReconciliation: t.field({
    type: ReconciliationRunNode,
    description:
      "Compare our payments with Stripe's charges for [from, to) (default: the last 7 days); the worker runs it and reconciliationRunUpdated reports progress. Never changes payments.",
    authScopes: { operator: true },
    errors: { types: [...commonMutationErrors, ConflictError] },
    args: {
      from: t.arg({ type: "DateTime", required: false }),
      to: t.arg({ type: "DateTime", required: false }),
    },
    resolve: (_root, args, context) =>
      startReconciliation(context.deps, context.actor, { from: args.from ?? null, to: args.to ?? null }),
  }),
  resolveDiscrepancy: t.field({
    type: DiscrepancyNode,
    description:
      "Fix one discrepancy after re-checking the charge at Stripe: IMPORT (records the payment and its placement like the webhook), MARK_FAILED, MARK_REFUNDED, or ACCEPT with a note. Audited; never calls Stripe to move money.",
    authScopes: { operator: true },
    errors: {
      types: [
        ...commonMutationErrors,
        ConflictError,
        FixNotApplicableError,
        StripeDisagreesError,
        StripeUnavailableError,
        StripeEventUnprocessableError,
      ],
    },
    args: {
      id: t.arg.globalID({ for: DiscrepancyNode }),
      action: t.arg({ type: DiscrepancyActionEnum }),
      note: t.arg.string({ required: false, validate: z.string().max(2000).nullish() }),
    },
    resolve: (_root, args, context) =>
      resolveDiscrepancy(
        { ...context.deps, timeZone: context.env.MARKETPLACE_TIME_ZONE },
        context.actor,
        args.id.id,
        args.action,
        args.note,
      ),
  }),
}));

// ───────────────────────────── Subscriptions ─────────────────────────────

builder.subscriptionFields((t) => ({
  reconciliationRunUpdated: t.prismaField({
    type: "ReconciliationRun",
    description: "A run started, made progress (throttled), finished, or had a discrepancy resolved.",
    authScopes: { viewer: true },
    subscribe: (_root, _args, { events }) => events.subscribe("reconciliationRunUpdated"),
    resolve: async (query, event: { runId: string; chargesCompared: number }, _args, { db }) => {
      const run = await db.reconciliationRun.findUniqueOrThrow({ ...query, where: { id: event.runId } });
      return run.status === "RUNNING"
        ? { ...run, chargesCompared: Math.max(run.chargesCompared, event.chargesCompared) }
        : run;
    },
  }),
}));
