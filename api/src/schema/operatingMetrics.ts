// The Metrics page's operating metrics (core/src/operatingMetrics.ts): computed by the rollup job,
// read from their snapshot here. Same readers as the overview's metrics.
import { metricsSettings } from "@steward/core/metrics";
import { type CountBy, currentOperatingMetrics, type OperatingMetrics } from "@steward/core/operatingMetrics";
import { builder } from "../builder.ts";
import { DayValueType, metricsReaders } from "./overview.ts";

const CountByType = builder.objectRef<CountBy>("MetricCount").implement({
  description: "A count for one key (a refund reason, a region, a classifier, a search term).",
  fields: (t) => ({ key: t.exposeString("key"), count: t.exposeInt("count") }),
});

const QueueWaitType = builder.objectRef<OperatingMetrics["queueWait"]>("QueueWaitMetric").implement({
  description: "Hours from purchase to activation of the placements that waited in the queue.",
  fields: (t) => ({
    averageHours: t.exposeFloat("averageHours", { nullable: true, description: "Over the last 4 weeks." }),
    weekly: t.field({
      type: [DayValueType],
      description: "Average hours per week (week start).",
      resolve: (q) => q.weekly,
    }),
  }),
});

const QueueVelocityType = builder.objectRef<OperatingMetrics["queueVelocity"]>("QueueVelocityMetric").implement({
  description: "Promotions from the queue (placements activated more than a minute after purchase).",
  fields: (t) => ({
    lastFourWeeksPerWeek: t.exposeFloat("lastFourWeeksPerWeek"),
    weekly: t.field({ type: [DayValueType], resolve: (q) => q.weekly }),
  }),
});

const EndedEarlyType = builder.objectRef<OperatingMetrics["endedEarly"]>("EndedEarlyMetric").implement({
  description: "Placements that had run and were refunded, by the month they ended.",
  fields: (t) => ({
    thisMonth: t.exposeInt("thisMonth"),
    monthly: t.field({ type: [DayValueType], description: "By month start.", resolve: (e) => e.monthly }),
  }),
});

const PaymentFailureType = builder.objectRef<OperatingMetrics["paymentFailureRate"]>("PaymentFailureMetric").implement({
  description: "FAILED ÷ settled (not PENDING) payments created.",
  fields: (t) => ({
    rate: t.exposeFloat("rate", { nullable: true, description: "Over the last 4 weeks (0–1)." }),
    failed: t.exposeInt("failed"),
    settled: t.exposeInt("settled"),
    weekly: t.field({ type: [DayValueType], description: "Percent per week.", resolve: (p) => p.weekly }),
  }),
});

const AiUptimeType = builder.objectRef<OperatingMetrics["aiUptime"]>("AiUptimeMetric").implement({
  description: "Share of the AI provider's health checks that passed, and this month's calls by classifier.",
  fields: (t) => ({
    percent: t.exposeFloat("percent", { nullable: true, description: "Over 30 days." }),
    daily: t.field({ type: [DayValueType], resolve: (a) => a.daily }),
    callsByClassifierThisMonth: t.field({ type: [CountByType], resolve: (a) => a.callsByClassifierThisMonth }),
  }),
});

const OperatingMetricsType = builder.objectRef<OperatingMetrics>("OperatingMetrics").implement({
  description: "The seeds' operating metrics, recomputed by the metrics rollup every 10 minutes.",
  fields: (t) => ({
    computedAt: t.field({ type: "DateTime", resolve: (m) => new Date(m.computedAt) }),
    timeZone: t.exposeString("timeZone"),
    queueWait: t.field({ type: QueueWaitType, resolve: (m) => m.queueWait }),
    queueVelocity: t.field({ type: QueueVelocityType, resolve: (m) => m.queueVelocity }),
    endedEarly: t.field({ type: EndedEarlyType, resolve: (m) => m.endedEarly }),
    refundsByReason: t.field({ type: [CountByType], description: "Last 90 days.", resolve: (m) => m.refundsByReason }),
    refundsByRegion: t.field({ type: [CountByType], description: "Last 90 days.", resolve: (m) => m.refundsByRegion }),
    paymentFailureRate: t.field({ type: PaymentFailureType, resolve: (m) => m.paymentFailureRate }),
    aiUptime: t.field({ type: AiUptimeType, resolve: (m) => m.aiUptime }),
    topSearchTerms: t.field({ type: [CountByType], description: "Last 7 days.", resolve: (m) => m.topSearchTerms }),
  }),
});

builder.queryFields((t) => ({
  operatingMetrics: t.field({
    type: OperatingMetricsType,
    authScopes: metricsReaders,
    resolve: (_root, _args, context) => currentOperatingMetrics(context.db, metricsSettings(context.env)),
  }),
}));
