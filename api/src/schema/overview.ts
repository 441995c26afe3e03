// The operator's overview: metrics (with a trend window), everything the overview page shows in
// one query, and metricsUpdated; plus search events from integrations (recordSearch). Core
// computes; these fields only map.
import type { HealthState } from "@steward/core/health";
import { type ScheduledJob, scheduledJobsOf } from "@steward/core/jobHealth";
import {
  currentMetrics,
  type DayValue,
  type JobStatusMetric,
  type Metrics,
  metricsSettings,
  type PeriodAmount,
  type RegionBacklog,
  type RevenueMetric,
  withWindow,
} from "@steward/core/metrics";
import { loadOverview, type Overview, type PendingTask } from "@steward/core/overview";
import { recordSearch } from "@steward/core/searches";
import { jobContracts } from "@steward/jobs/contracts";
import type { Alert } from "@steward/db/client";
import { z } from "zod";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { WeeklyCheckupNode } from "./checkups.ts";
import { commonMutationErrors } from "./errors.ts";
import { SeverityEnum } from "./severity.ts";

/** The worker's scheduled jobs with a period: the overview counts those due or never run. */
const scheduledJobsByEnv = new WeakMap<Context["env"], ScheduledJob[]>();
function scheduledJobs(context: Context): ScheduledJob[] {
  // Built once per process (the env is): building the job catalog on each overview request cost more than its SQL.
  let jobs = scheduledJobsByEnv.get(context.env);
  if (!jobs) {
    jobs = scheduledJobsOf(jobContracts(context.env));
    scheduledJobsByEnv.set(context.env, jobs);
  }
  return jobs;
}

const metricsDeps = (context: Context) => ({
  db: context.db,
  sql: context.deps.sql,
  events: context.events,
  settings: metricsSettings(context.env),
});

// ───────────────────────────── Metrics ─────────────────────────────

export const DayValueType = builder.objectRef<DayValue>("DayValue").implement({
  fields: (t) => ({
    day: t.exposeString("day", { description: "YYYY-MM-DD in the marketplace's time zone." }),
    value: t.exposeFloat("value"),
  }),
});

const PeriodAmountType = builder.objectRef<PeriodAmount>("PeriodAmount").implement({
  description: "Net revenue (amount − refunded, in cents) of a period and of the period before it.",
  fields: (t) => ({
    from: t.exposeString("from"),
    to: t.exposeString("to"),
    netCents: t.exposeFloat("netCents", { description: "Minor units; a Float because sums can exceed 32 bits." }),
    previousNetCents: t.exposeFloat("previousNetCents"),
    change: t.exposeFloat("change", { nullable: true, description: "(current − previous) ÷ previous." }),
  }),
});

const RevenueType = builder.objectRef<RevenueMetric>("RevenueMetric").implement({
  description: "Net revenue in one currency.",
  fields: (t) => ({
    currency: t.exposeString("currency"),
    ltm: t.field({ type: PeriodAmountType, description: "The 365 days to today.", resolve: (r) => r.ltm }),
    mtd: t.field({ type: PeriodAmountType, description: "The 1st of the month to today.", resolve: (r) => r.mtd }),
    wtd: t.field({ type: PeriodAmountType, description: "Monday to today.", resolve: (r) => r.wtd }),
    projectedMonthEndCents: t.float({ resolve: (r) => r.mtd.projectedMonthEndCents }),
    daily: t.field({ type: [DayValueType], resolve: (r) => r.daily }),
  }),
});

const HealthStateEnum = builder.enumType("HealthState", {
  values: ["OK", "FAILING", "UNKNOWN", "CHECKING"] as const,
});

const HealthCheckType = builder.objectRef<HealthState>("HealthCheckState").implement({
  description:
    "The latest result of one health check (CHECKING when it has not run yet in the first minute, UNKNOWN after).",
  fields: (t) => ({
    check: t.exposeString("check"),
    state: t.expose("state", { type: HealthStateEnum }),
    checkedAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (h) => (h.checkedAt ? new Date(h.checkedAt) : null),
    }),
    latencyMs: t.exposeInt("latencyMs", { nullable: true }),
    detail: t.exposeString("detail", { nullable: true }),
  }),
});

const RegionBacklogType = builder.objectRef<RegionBacklog>("RegionBacklog").implement({
  fields: (t) => ({
    regionId: t.exposeString("regionId"),
    name: t.exposeString("name"),
    queued: t.exposeInt("queued"),
    active: t.exposeInt("active"),
    slots: t.exposeInt("slots"),
  }),
});

const JobStatusType = builder.objectRef<JobStatusMetric>("JobStatusMetric").implement({
  fields: (t) => ({
    jobName: t.exposeString("jobName"),
    status: t.exposeString("status"),
    startedAt: t.field({ type: "DateTime", resolve: (job) => new Date(job.startedAt) }),
  }),
});

const FeaturedAdoptionType = builder.objectRef<Metrics["featuredAdoption"]>("FeaturedAdoption").implement({
  fields: (t) => ({
    featuredBusinesses: t.exposeInt("featuredBusinesses"),
    businesses: t.exposeInt("businesses"),
    rate: t.exposeFloat("rate"),
    target: t.exposeFloat("target"),
  }),
});

const QueueBacklogType = builder.objectRef<Metrics["queueBacklog"]>("QueueBacklog").implement({
  fields: (t) => ({
    total: t.exposeInt("total"),
    regions: t.field({
      type: [RegionBacklogType],
      description: "Longest queue first; `first` keeps only that many (every region when omitted).",
      args: { first: t.arg.int({ required: false, validate: z.number().int().min(1).max(10_000).nullish() }) },
      // A marketplace of hundreds of regions: the overview shows the few longest queues.
      resolve: (q, args) => (args.first ? q.regions.slice(0, args.first) : q.regions),
    }),
  }),
});

const RefundRateType = builder.objectRef<Metrics["refundRate"]>("RefundRate").implement({
  fields: (t) => ({
    windowDays: t.exposeInt("windowDays"),
    payments: t.exposeInt("payments"),
    refunded: t.exposeInt("refunded"),
    rate: t.exposeFloat("rate"),
    threshold: t.exposeFloat("threshold"),
  }),
});

const SearchVolumeType = builder.objectRef<Metrics["searchVolume"]>("SearchVolume").implement({
  fields: (t) => ({
    today: t.exposeInt("today"),
    averagePerDay: t.exposeFloat("averagePerDay", { description: "Over the last 7 days." }),
    change: t.exposeFloat("change", { nullable: true, description: "Last 7 days against the 7 before." }),
    daily: t.field({ type: [DayValueType], resolve: (s) => s.daily }),
  }),
});

const AiModeEnum = builder.enumType("AiMode", { values: ["provider", "deterministic"] as const });

const AiProviderType = builder.objectRef<Metrics["aiProvider"]>("AiProviderMetric").implement({
  fields: (t) => ({
    mode: t.expose("mode", { type: AiModeEnum }),
    health: t.field({ type: HealthCheckType, resolve: (ai) => ai.health }),
    callsThisMonth: t.exposeInt("callsThisMonth"),
    costThisMonthCents: t.exposeInt("costThisMonthCents"),
    budgetCents: t.exposeInt("budgetCents"),
    costSource: t.exposeString("costSource", {
      description: "'estimated': provider-scored reviews × AI_COST_PER_CALL_CENTS.",
    }),
  }),
});

const JobsMetricType = builder.objectRef<Metrics["jobs"]>("JobsMetric").implement({
  fields: (t) => ({
    failing: t.exposeInt("failing", { description: "Jobs whose latest run failed." }),
    latest: t.field({ type: [JobStatusType], resolve: (jobs) => jobs.latest }),
  }),
});

const StripeMetricType = builder.objectRef<Metrics["stripe"]>("StripeMetric").implement({
  fields: (t) => ({
    api: t.field({ type: HealthCheckType, resolve: (s) => s.api }),
    webhooks: t.field({ type: HealthCheckType, resolve: (s) => s.webhooks }),
  }),
});

const MetricsType = builder.objectRef<Metrics>("Metrics").implement({
  description: "Computed by the metrics rollup (every minute and after each payment); never older than a minute.",
  fields: (t) => ({
    computedAt: t.field({ type: "DateTime", resolve: (m) => new Date(m.computedAt) }),
    timeZone: t.exposeString("timeZone"),
    today: t.exposeString("today"),
    revenue: t.field({
      type: [RevenueType],
      description: "Per currency, the main one first.",
      resolve: (m) => m.revenue,
    }),
    featuredAdoption: t.field({ type: FeaturedAdoptionType, resolve: (m) => m.featuredAdoption }),
    queueBacklog: t.field({ type: QueueBacklogType, resolve: (m) => m.queueBacklog }),
    refundRate: t.field({ type: RefundRateType, resolve: (m) => m.refundRate }),
    searchVolume: t.field({ type: SearchVolumeType, resolve: (m) => m.searchVolume }),
    aiProvider: t.field({ type: AiProviderType, resolve: (m) => m.aiProvider }),
    jobs: t.field({ type: JobsMetricType, resolve: (m) => m.jobs }),
    stripe: t.field({ type: StripeMetricType, resolve: (m) => m.stripe }),
  }),
});

const MetricsWindowEnum = builder.enumType("MetricsWindow", {
  description: "How many days of daily values the trend series hold.",
  values: { LAST_7_DAYS: { value: 7 }, LAST_30_DAYS: { value: 30 }, LAST_90_DAYS: { value: 90 } } as const,
});

// ───────────────────────────── Overview ─────────────────────────────

const AlertStatusEnum = builder.enumType("OverviewAlertStatus", {
  values: ["FIRING", "ACKNOWLEDGED", "RESOLVED"] as const,
});

// Its own small type so the overview does not depend on the alerts schema being merged.
const OverviewAlertType = builder.objectRef<Alert>("OverviewAlert").implement({
  fields: (t) => ({
    id: t.exposeString("id"),
    severity: t.expose("severity", { type: SeverityEnum }),
    status: t.expose("status", { type: AlertStatusEnum }),
    title: t.exposeString("title"),
    detail: t.exposeString("detail"),
    count: t.exposeInt("count"),
    firstSeenAt: t.expose("firstSeenAt", { type: "DateTime" }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime" }),
  }),
});

const PendingTaskKindEnum = builder.enumType("PendingTaskKind", {
  values: ["ALERTS", "REFUNDS", "RECONCILIATION", "DISPUTES", "JOBS", "REVIEWS"] as const,
});

const PendingTaskType = builder.objectRef<PendingTask>("PendingTask").implement({
  fields: (t) => ({
    kind: t.expose("kind", { type: PendingTaskKindEnum }),
    label: t.exposeString("label"),
    count: t.exposeInt("count"),
    minutesEach: t.exposeFloat("minutesEach"),
    estimatedMinutes: t.exposeInt("estimatedMinutes"),
    priority: t.exposeInt("priority", { description: "1 is the most urgent." }),
    href: t.exposeString("href", { description: "The dashboard page where the work is done." }),
  }),
});

const JobDueType = builder.objectRef<Overview["jobsDue"][number]>("JobDue").implement({
  description: "A scheduled job that is late (YELLOW, RED) or has never run (NEVER_RAN).",
  fields: (t) => ({
    name: t.exposeString("name"),
    state: t.exposeString("state"),
    lastSuccessAt: t.expose("lastSuccessAt", { type: "DateTime", nullable: true }),
  }),
});

const OverviewType = builder.objectRef<Overview>("Overview").implement({
  description: "Everything the Monday check needs, in one query.",
  fields: (t) => ({
    status: t.expose("status", {
      type: SeverityEnum,
      description: "The worst of the open alerts and the failing checks; GREEN when there are none.",
    }),
    jobsDue: t.field({ type: [JobDueType], resolve: (overview) => overview.jobsDue }),
    statusCauses: t.exposeStringList("statusCauses", {
      description: 'What makes the status what it is, e.g. "2 open alerts (1 red)", "failing: ai_provider".',
    }),
    openAlerts: t.field({
      type: [OverviewAlertType],
      description: "Firing or acknowledged, red first, then the most recently seen.",
      resolve: (o) => o.openAlerts,
    }),
    recentAlerts: t.field({
      type: [OverviewAlertType],
      description: "The last 5 alerts seen, any status.",
      resolve: (o) => o.recentAlerts,
    }),
    metrics: t.field({ type: MetricsType, resolve: (o) => o.metrics }),
    pendingTasks: t.field({
      type: [PendingTaskType],
      description: "Work waiting first, by priority.",
      resolve: (o) => o.pendingTasks,
    }),
    health: t.field({ type: [HealthCheckType], resolve: (o) => o.health }),
    lastCheckup: t.field({ type: WeeklyCheckupNode, nullable: true, resolve: (o) => o.lastCheckup }),
  }),
});

/** Operators, and dashboards or on-call tools with a metrics token. */
export const metricsReaders = { $any: { viewer: true, token: "metrics:read" } } as const;

builder.queryFields((t) => ({
  metrics: t.field({
    type: MetricsType,
    authScopes: metricsReaders,
    args: { window: t.arg({ type: MetricsWindowEnum, required: false, description: "Default LAST_30_DAYS." }) },
    resolve: async (_root, args, context) => withWindow(await currentMetrics(metricsDeps(context)), args.window ?? 30),
  }),
  overview: t.field({
    type: OverviewType,
    authScopes: metricsReaders,
    args: { window: t.arg({ type: MetricsWindowEnum, required: false, description: "Default LAST_30_DAYS." }) },
    resolve: async (_root, args, context) => {
      const overview = await loadOverview(metricsDeps(context), { scheduledJobs: scheduledJobs(context) });
      return { ...overview, metrics: withWindow(overview.metrics, args.window ?? 30) };
    },
  }),
}));

builder.subscriptionFields((t) => ({
  metricsUpdated: t.field({
    type: MetricsType,
    description: "Fresh metrics, each time the rollup stores them (every minute, and after payments).",
    authScopes: metricsReaders,
    args: { window: t.arg({ type: MetricsWindowEnum, required: false }) },
    subscribe: (_root, _args, { events }) => events.subscribe("metricsUpdated"),
    resolve: async (_event, args, context) => withWindow(await currentMetrics(metricsDeps(context)), args.window ?? 30),
  }),
}));

// ───────────────────────────── Search events ─────────────────────────────

const SearchEventType = builder.prismaObject("SearchEvent", {
  authScopes: { $any: { viewer: true, token: "searches:write" } },
  fields: (t) => ({
    id: t.exposeID("id"),
    query: t.exposeString("query"),
    resultCount: t.exposeInt("resultCount"),
    occurredAt: t.expose("occurredAt", { type: "DateTime" }),
  }),
});

builder.mutationFields((t) => ({
  recordSearch: t.prismaField({
    type: SearchEventType,
    description: "An integration reports a visitor's search (scope searches:write), for the search-volume metric.",
    authScopes: { token: "searches:write" },
    errors: { types: commonMutationErrors },
    args: {
      query: t.arg.string({ validate: z.string().max(500) }),
      resultCount: t.arg.int({ validate: z.number().int().min(0) }),
      region: t.arg.string({
        required: false,
        description: "Region id or slug.",
        validate: z.string().max(100).nullish(),
      }),
      occurredAt: t.arg({ type: "DateTime", required: false, description: "Default now; at most a day ago." }),
    },
    resolve: (query, _root, args, { db, deps, actor }) =>
      recordSearch(deps, actor, {
        query: args.query,
        resultCount: args.resultCount,
        region: args.region ?? null,
        occurredAt: args.occurredAt ?? null,
      }).then((event) => db.searchEvent.findUniqueOrThrow({ ...query, where: { id: event.id } })),
  }),
}));
