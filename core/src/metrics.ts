// The operator's metrics (PRODUCT.md §7, seed Part 3.2 and 6.1), computed from the database.
//
// To stay fast at any size, the rollup (job metrics-rollup, every minute, and after each Stripe
// event) folds payments and search events into per-day tables (RevenueDaily, SearchDaily, by the
// marketplace's day) and stores the computed metrics as one snapshot row; the overview reads the
// snapshot, and recomputes it itself when it is older than METRICS_MAX_AGE_SECONDS. The rollup is
// incremental: it re-aggregates only the days whose payments changed since its last run (by
// Payment.updatedAt, with an overlap for transactions that committed late) and the last 3 days of
// searches (recordSearch refuses older events). Re-running it changes nothing.
//
// Definitions (decided here, shown on the page):
// - Revenue is net: amount − refunded of payments that succeeded (SUCCEEDED, REFUNDED,
//   PARTIALLY_REFUNDED), by purchase day, per currency. WTD = Monday..today, compared with the
//   same weekdays of last week; MTD = the 1st..today, compared with the same days of last month;
//   LTM = the 365 days to today, compared with the 365 before. Month-end projection = MTD ÷ days
//   so far × days in the month.
// - Refund rate = refunded ÷ succeeded payments purchased in the refund-rate alert rule's window
//   (7 days by default), computed as the rule computes it, so the card and the alert agree.
// - AI cost is an estimate: provider-scored reviews this month × AI_COST_PER_CALL_CENTS.
import type { Db, DbTx, Severity, SqlReader } from "@steward/db/client";
import {
  addDays,
  type Day,
  dayIn,
  dayOfMonth,
  daysBetween,
  daysFrom,
  daysInMonth,
  startOfMonth,
  startOfPreviousMonth,
  startOfWeek,
} from "./calendar.ts";
import { clock } from "./clock.ts";
import { Params } from "./reads/rows.ts";
import type { Env } from "./env.ts";
import type { EventBus } from "./ports/events.ts";
import { type HealthState, healthStates } from "./health.ts";
import { refundRateOverWindow } from "./health/checks/refundRate.ts";
import { activeRules, effectiveThresholds, refundRateRule, refundRateSeverity } from "./alertRules.ts";
/** Longest trend series kept in the snapshot; `metrics(window)` slices it. */
export const SERIES_DAYS = 90;
/** Payments whose transaction committed up to this long after their updatedAt are still folded in. */
const WATERMARK_OVERLAP_MS = 2 * 60_000;
/** Days of searches the rollup re-aggregates each run (recordSearch refuses older events). */
export const SEARCH_LATE_DAYS = 2;
/** How far in the past recordSearch accepts an event (the rollup re-reads SEARCH_LATE_DAYS days). */
export const SEARCH_MAX_AGE_MS = 24 * 3_600_000;
const SNAPSHOT_KEY = "current";
// Two rollups at once (the job and an overview that found the snapshot stale) take turns.
const ROLLUP_LOCK = 724_001;

export interface MetricsSettings {
  timeZone: string;
  featuredAdoptionTarget: number;
  aiMode: "provider" | "deterministic";
  aiCostPerCallCents: number;
  aiMonthlyBudgetCents: number;
  maxAgeSeconds: number;
}

export function metricsSettings(env: Env): MetricsSettings {
  return {
    timeZone: env.MARKETPLACE_TIME_ZONE,
    featuredAdoptionTarget: env.FEATURED_ADOPTION_TARGET,
    aiMode: env.AI_MODE,
    aiCostPerCallCents: env.AI_COST_PER_CALL_CENTS,
    aiMonthlyBudgetCents: env.AI_MONTHLY_BUDGET_CENTS,
    maxAgeSeconds: env.METRICS_MAX_AGE_SECONDS,
  };
}

export interface MetricsDeps {
  db: Db;
  /** Reads the snapshot with a plain statement where given (the overview's hot path). */
  sql?: SqlReader;
  settings: MetricsSettings;
  /** Publishes metricsUpdated after a rollup; absent in tests that only compute. */
  events?: EventBus;
  now?: () => Date;
}

// ───────────────────────────── The metrics ─────────────────────────────

export interface PeriodAmount {
  from: Day;
  to: Day;
  netCents: number;
  previousNetCents: number;
  /** (current − previous) ÷ previous; null when the previous period had nothing. */
  change: number | null;
}

export interface DayValue {
  day: Day;
  value: number;
}

export interface RevenueMetric {
  currency: string;
  ltm: PeriodAmount;
  mtd: PeriodAmount & { projectedMonthEndCents: number };
  wtd: PeriodAmount;
  /** Net revenue per day, oldest first, SERIES_DAYS long. */
  daily: DayValue[];
}

export interface RegionBacklog {
  regionId: string;
  name: string;
  queued: number;
  active: number;
  slots: number;
}

export interface JobStatusMetric {
  jobName: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED";
  startedAt: string;
}

export interface Metrics {
  computedAt: string;
  timeZone: string;
  today: Day;
  /** The marketplace's main currency (most net revenue in the last 12 months) first. */
  revenue: RevenueMetric[];
  featuredAdoption: { featuredBusinesses: number; businesses: number; rate: number; target: number };
  queueBacklog: { total: number; regions: RegionBacklog[] };
  refundRate: {
    windowDays: number;
    payments: number;
    refunded: number;
    rate: number;
    /** Red above this rate; yellow from `yellowFrom`; too few purchases (`minPurchases`) say nothing. */
    threshold: number;
    yellowFrom: number;
    minPurchases: number;
    /** As the alert rule judges it (refundRateSeverity), for the weekly checkup. */
    severity: Severity;
  };
  searchVolume: {
    today: number;
    /** Average per day over the last 7 days, and the change against the 7 days before. */
    averagePerDay: number;
    change: number | null;
    daily: DayValue[];
  };
  aiProvider: {
    mode: "provider" | "deterministic";
    health: HealthState;
    callsThisMonth: number;
    costThisMonthCents: number;
    budgetCents: number;
    /** "estimated": calls × AI_COST_PER_CALL_CENTS (nothing records the provider's own bill). */
    costSource: "estimated";
  };
  jobs: { failing: number; latest: JobStatusMetric[] };
  stripe: { api: HealthState; webhooks: HealthState };
}

function change(current: number, previous: number): number | null {
  return previous === 0 ? null : (current - previous) / previous;
}

function sumDays(series: ReadonlyMap<Day, number>, from: Day, to: Day): number {
  let total = 0;
  for (const [day, value] of series) if (day >= from && day <= to) total += value;
  return total;
}

function period(series: ReadonlyMap<Day, number>, from: Day, to: Day, previousFrom: Day, previousTo: Day) {
  const netCents = sumDays(series, from, to);
  const previousNetCents = sumDays(series, previousFrom, previousTo);
  return { from, to, netCents, previousNetCents, change: change(netCents, previousNetCents) };
}

/** The revenue figures of one currency from its net revenue per day (pure: period edges live here). */
export function revenueFor(currency: string, netByDay: ReadonlyMap<Day, number>, today: Day): RevenueMetric {
  const weekStart = startOfWeek(today);
  const elapsedInWeek = daysBetween(weekStart, today);
  const monthStart = startOfMonth(today);
  const previousMonthStart = startOfPreviousMonth(today);
  // The same days of last month, clamped to its length (31 March compares with 1–28/29 February).
  const previousMonthTo = addDays(previousMonthStart, Math.min(dayOfMonth(today), daysInMonth(previousMonthStart)) - 1);
  const mtd = period(netByDay, monthStart, today, previousMonthStart, previousMonthTo);
  return {
    currency,
    ltm: period(netByDay, addDays(today, -364), today, addDays(today, -729), addDays(today, -365)),
    mtd: { ...mtd, projectedMonthEndCents: Math.round((mtd.netCents / dayOfMonth(today)) * daysInMonth(today)) },
    wtd: period(netByDay, weekStart, today, addDays(weekStart, -7), addDays(weekStart, elapsedInWeek - 7)),
    daily: daysFrom(addDays(today, 1 - SERIES_DAYS), today).map((day) => ({ day, value: netByDay.get(day) ?? 0 })),
  };
}

// ───────────────────────────── Computing ─────────────────────────────

async function revenueMetrics(tx: DbTx, today: Day): Promise<RevenueMetric[]> {
  const rows = await tx.$queryRaw<{ day: Date; currency: string; netCents: bigint }[]>`
    SELECT day, currency, ("grossCents" - "refundedCents")::bigint AS "netCents"
      FROM "RevenueDaily" WHERE day BETWEEN ${addDays(today, -729)}::date AND ${today}::date`;
  const byCurrency = new Map<string, Map<Day, number>>();
  for (const row of rows) {
    const series = byCurrency.get(row.currency) ?? new Map<Day, number>();
    series.set(row.day.toISOString().slice(0, 10), Number(row.netCents));
    byCurrency.set(row.currency, series);
  }
  return [...byCurrency]
    .map(([currency, series]) => revenueFor(currency, series, today))
    .sort((a, b) => b.ltm.netCents - a.ltm.netCents || a.currency.localeCompare(b.currency));
}

async function searchMetrics(tx: DbTx, today: Day): Promise<Metrics["searchVolume"]> {
  const rows = await tx.$queryRaw<{ day: Date; searches: number }[]>`
    SELECT day, searches FROM "SearchDaily" WHERE day BETWEEN ${addDays(today, 1 - SERIES_DAYS)}::date AND ${today}::date`;
  const byDay = new Map(rows.map((row) => [row.day.toISOString().slice(0, 10), row.searches]));
  const lastWeek = sumDays(byDay, addDays(today, -6), today);
  const weekBefore = sumDays(byDay, addDays(today, -13), addDays(today, -7));
  return {
    today: byDay.get(today) ?? 0,
    averagePerDay: lastWeek / 7,
    change: change(lastWeek, weekBefore),
    daily: daysFrom(addDays(today, 1 - SERIES_DAYS), today).map((day) => ({ day, value: byDay.get(day) ?? 0 })),
  };
}

/**
 * The refund rate exactly as its alert rule computes it (the rule's window and thresholds, as
 * configured, over the same purchases, judged by the same refundRateSeverity), so the card, the
 * weekly checkup and the alert never disagree.
 */
async function refundRateAsAlerted(tx: DbTx, now: Date): Promise<Metrics["refundRate"]> {
  const configured = (await activeRules(tx)).find((entry) => entry.rule.key === refundRateRule.key);
  const thresholds = effectiveThresholds(refundRateRule, configured?.thresholds);
  const refunds = await refundRateOverWindow(tx, thresholds.windowDays, now);
  return {
    windowDays: thresholds.windowDays,
    payments: refunds.purchases,
    refunded: refunds.refunded,
    rate: refunds.purchases === 0 ? 0 : refunds.refunded / refunds.purchases,
    threshold: thresholds.maxRatePercent / 100,
    yellowFrom: thresholds.yellowFromPercent / 100,
    minPurchases: thresholds.minPurchases,
    severity: refundRateSeverity(refunds, thresholds) ?? "GREEN",
  };
}

/** Computes every metric from the rollup tables and a few indexed counts. */
export async function computeMetrics(tx: DbTx, settings: MetricsSettings, now: Date): Promise<Metrics> {
  const { timeZone } = settings;
  const today = dayIn(now, timeZone);
  const monthStart = startOfMonth(today);
  const [revenue, searchVolume, refunds, adoption, regions, aiCalls, jobs, health] = await Promise.all([
    revenueMetrics(tx, today),
    searchMetrics(tx, today),
    refundRateAsAlerted(tx, now),
    tx.$queryRaw<{ featured: number; businesses: number }[]>`
      SELECT (SELECT count(DISTINCT "businessId") FROM "Placement" WHERE status = 'ACTIVE')::int AS featured,
             (SELECT count(*) FROM "Business")::int AS businesses`,
    tx.$queryRaw<RegionBacklog[]>`
      SELECT r.id AS "regionId", r.name, r."featuredSlots" AS slots,
             count(p.id) FILTER (WHERE p.status = 'QUEUED')::int AS queued,
             count(p.id) FILTER (WHERE p.status = 'ACTIVE')::int AS active
        FROM "Region" r LEFT JOIN "Placement" p ON p."regionId" = r.id AND p.status IN ('QUEUED', 'ACTIVE')
       GROUP BY r.id ORDER BY queued DESC, r.name`,
    tx.$queryRaw<{ calls: number }[]>`
      SELECT count(*)::int AS calls FROM "ReviewScore"
       WHERE classifier = 'provider'
         AND "createdAt" >= ((${monthStart}::date)::timestamp AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC'`,
    // The latest run of each job that ran in the last 8 days (the weekly checkup included).
    tx.$queryRaw<{ jobName: string; status: JobStatusMetric["status"]; startedAt: Date }[]>`
      SELECT DISTINCT ON ("jobName") "jobName", status, "startedAt" FROM "JobRun"
       WHERE "startedAt" > ${new Date(now.getTime() - 8 * 86_400_000)}
       ORDER BY "jobName", "startedAt" DESC`,
    healthStates(tx),
  ]);
  const adoptionRow = adoption[0] ?? { featured: 0, businesses: 0 };
  const calls = aiCalls[0]?.calls ?? 0;
  const healthOf = (check: string) => health.find((state) => state.check === check) ?? unknownHealth(check);
  return {
    computedAt: now.toISOString(),
    timeZone,
    today,
    revenue,
    featuredAdoption: {
      featuredBusinesses: adoptionRow.featured,
      businesses: adoptionRow.businesses,
      rate: adoptionRow.businesses === 0 ? 0 : adoptionRow.featured / adoptionRow.businesses,
      target: settings.featuredAdoptionTarget,
    },
    queueBacklog: { total: regions.reduce((total, region) => total + region.queued, 0), regions },
    refundRate: refunds,
    searchVolume,
    aiProvider: {
      mode: settings.aiMode,
      health: healthOf("ai_provider"),
      callsThisMonth: calls,
      costThisMonthCents: Math.round(calls * settings.aiCostPerCallCents),
      budgetCents: settings.aiMonthlyBudgetCents,
      costSource: "estimated",
    },
    jobs: {
      failing: jobs.filter((job) => job.status === "FAILED").length,
      latest: jobs.map((job) => ({ jobName: job.jobName, status: job.status, startedAt: job.startedAt.toISOString() })),
    },
    stripe: { api: healthOf("stripe"), webhooks: healthOf("webhooks") },
  };
}

function unknownHealth(check: string): HealthState {
  return { check, state: "UNKNOWN", checkedAt: null, latencyMs: null, detail: null };
}

// ───────────────────────────── Rolling up ─────────────────────────────

async function rollUpRevenue(tx: DbTx, timeZone: string, since: Date | null, today: Day): Promise<number> {
  if (since === null) {
    // First run: fold in the whole history in one set-based statement.
    await tx.$executeRaw`DELETE FROM "RevenueDaily"`;
    return tx.$executeRaw`
      INSERT INTO "RevenueDaily" (day, currency, payments, refunded, "grossCents", "refundedCents", "updatedAt")
      SELECT (("purchasedAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date, currency, count(*),
             count(*) FILTER (WHERE status IN ('REFUNDED', 'PARTIALLY_REFUNDED')),
             sum("amountCents"), sum("refundedCents"), now()
        FROM "Payment" WHERE status IN ('SUCCEEDED', 'REFUNDED', 'PARTIALLY_REFUNDED')
       GROUP BY 1, 2`;
  }
  const changed = await tx.$queryRaw<{ day: Date }[]>`
    SELECT DISTINCT (("purchasedAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date AS day
      FROM "Payment" WHERE "updatedAt" >= ${since}`;
  const days = [...new Set([today, ...changed.map((row) => row.day.toISOString().slice(0, 10))])];
  await tx.$executeRaw`DELETE FROM "RevenueDaily" WHERE day = ANY(${days}::date[])`;
  return tx.$executeRaw`
    WITH span AS (
      SELECT day, ((day::timestamp) AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC' AS lo,
             (((day + 1)::timestamp) AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC' AS hi
        FROM unnest(${days}::date[]) AS day)
    INSERT INTO "RevenueDaily" (day, currency, payments, refunded, "grossCents", "refundedCents", "updatedAt")
    SELECT span.day, p.currency, count(*), count(*) FILTER (WHERE p.status IN ('REFUNDED', 'PARTIALLY_REFUNDED')),
           sum(p."amountCents"), sum(p."refundedCents"), now()
      FROM span JOIN "Payment" p ON p."purchasedAt" >= span.lo AND p."purchasedAt" < span.hi
     WHERE p.status IN ('SUCCEEDED', 'REFUNDED', 'PARTIALLY_REFUNDED')
     GROUP BY span.day, p.currency`;
}

async function rollUpSearches(tx: DbTx, timeZone: string, full: boolean, today: Day): Promise<number> {
  if (full) {
    await tx.$executeRaw`DELETE FROM "SearchDaily"`;
    return tx.$executeRaw`
      INSERT INTO "SearchDaily" (day, searches, "updatedAt")
      SELECT (("occurredAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date, count(*), now()
        FROM "SearchEvent" GROUP BY 1`;
  }
  const from = addDays(today, -SEARCH_LATE_DAYS);
  await tx.$executeRaw`DELETE FROM "SearchDaily" WHERE day >= ${from}::date`;
  return tx.$executeRaw`
    INSERT INTO "SearchDaily" (day, searches, "updatedAt")
    SELECT (("occurredAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date, count(*), now()
      FROM "SearchEvent"
     WHERE "occurredAt" >= ((${from}::date)::timestamp AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC'
     GROUP BY 1`;
}

export interface RollupResult {
  metrics: Metrics;
  /** False when a concurrent rollup had just stored fresh metrics, so this one did nothing. */
  rolledUp: boolean;
  full: boolean;
}

/**
 * Folds new payments and searches into the daily tables, recomputes the metrics, stores them as
 * the snapshot and publishes metricsUpdated. With `ifOlderThanMs`, does nothing when the
 * snapshot is fresher than that (checked under the lock, so stale readers recompute once).
 */
export async function rollupMetrics(
  deps: MetricsDeps,
  options: { ifOlderThanMs?: number } = {},
): Promise<RollupResult> {
  const now = clock(deps);
  const { timeZone } = deps.settings;
  const result = await deps.db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROLLUP_LOCK})`;
      const snapshot = await tx.metricsSnapshot.findUnique({ where: { key: SNAPSHOT_KEY } });
      if (
        snapshot &&
        options.ifOlderThanMs !== undefined &&
        now.getTime() - snapshot.computedAt.getTime() < options.ifOlderThanMs
      ) {
        return { metrics: snapshot.metrics as unknown as Metrics, rolledUp: false, full: false };
      }
      const today = dayIn(now, timeZone);
      // Folded days depend on the time zone: a change of MARKETPLACE_TIME_ZONE starts over.
      const full = !snapshot || (snapshot.metrics as { timeZone?: string }).timeZone !== timeZone;
      const watermark = new Date(now.getTime() - WATERMARK_OVERLAP_MS);
      await rollUpRevenue(tx, timeZone, full ? null : snapshot.watermark, today);
      await rollUpSearches(tx, timeZone, full, today);
      const metrics = await computeMetrics(tx, deps.settings, now);
      const stored = { metrics: metrics as object, watermark, computedAt: now };
      await tx.metricsSnapshot.upsert({
        where: { key: SNAPSHOT_KEY },
        create: { key: SNAPSHOT_KEY, ...stored },
        update: stored,
      });
      return { metrics, rolledUp: true, full };
    },
    { timeout: 120_000, maxWait: 120_000 },
  );
  if (result.rolledUp) deps.events?.publish("metricsUpdated", { computedAt: result.metrics.computedAt });
  return result;
}

/** The stored metrics, recomputed first when older than METRICS_MAX_AGE_SECONDS (or missing). */
// The overview and every metricsUpdated subscriber read the snapshot on each request: its JSON
// (~70 KB at scale) is parsed once per stored version and kept beside the reader (one per process)
// it came from. The version is the row's xmin: each rollup's upsert writes a new one, even when an
// injected clock gives two rollups the same computedAt.
const parsedSnapshots = new WeakMap<SqlReader, { version: string; metrics: Metrics }>();

/** The snapshot as columns of a statement (see snapshotColumns): its JSON only when not parsed already. */
export interface SnapshotColumns {
  metricsComputedAt: Date | null;
  metricsVersion: string | null;
  metricsJson: Metrics | null;
}

/** The version (xmin) of the snapshot this reader's process holds parsed; null when it holds none. */
export function parsedSnapshotVersion(sql: SqlReader): string | null {
  return parsedSnapshots.get(sql)?.version ?? null;
}

/**
 * Columns `metricsComputedAt`, `metricsVersion` and `metricsJson` (null when the stored version is
 * `parsedVersion`: see parsedSnapshotVersion) for a SELECT. Exported for the bench's floor server,
 * which keeps its own parsed snapshot.
 */
export function snapshotColumns(parsedVersion: string | null, params: Params): string {
  const parsed = params.add(parsedVersion, "text");
  return `(SELECT "computedAt" FROM "MetricsSnapshot" WHERE key = '${SNAPSHOT_KEY}') AS "metricsComputedAt",
    (SELECT xmin::text FROM "MetricsSnapshot" WHERE key = '${SNAPSHOT_KEY}') AS "metricsVersion",
    (SELECT CASE WHEN xmin::text IS DISTINCT FROM ${parsed} THEN metrics END
       FROM "MetricsSnapshot" WHERE key = '${SNAPSHOT_KEY}') AS "metricsJson"`;
}

/** The metrics those columns give: the parsed ones when unchanged; rolled up again when missing or too old. */
export async function metricsOf(
  deps: MetricsDeps & { sql: SqlReader },
  read: SnapshotColumns | undefined,
): Promise<Metrics> {
  const maxAgeMs = deps.settings.maxAgeSeconds * 1000;
  const computedAt = read?.metricsComputedAt ?? null;
  if (read?.metricsVersion && computedAt && clock(deps).getTime() - computedAt.getTime() < maxAgeMs) {
    if (read.metricsJson) {
      parsedSnapshots.set(deps.sql, { version: read.metricsVersion, metrics: read.metricsJson });
      return read.metricsJson;
    }
    const parsed = parsedSnapshots.get(deps.sql);
    if (parsed?.version === read.metricsVersion) return parsed.metrics;
    // Another request parsed a newer one meanwhile: the read below returns the stored snapshot.
  }
  return (await rollupMetrics(deps, { ifOlderThanMs: maxAgeMs })).metrics;
}

export async function currentMetrics(deps: MetricsDeps): Promise<Metrics> {
  const { sql } = deps;
  if (sql) {
    const params = new Params();
    const [read] = await sql.rows<SnapshotColumns>(
      `SELECT ${snapshotColumns(parsedSnapshotVersion(sql), params)}`,
      params.values,
    );
    return metricsOf({ ...deps, sql }, read);
  }
  const now = clock(deps);
  const maxAgeMs = deps.settings.maxAgeSeconds * 1000;
  const snapshot = await deps.db.metricsSnapshot.findUnique({ where: { key: SNAPSHOT_KEY } });
  if (snapshot && now.getTime() - snapshot.computedAt.getTime() < maxAgeMs) {
    return snapshot.metrics as unknown as Metrics;
  }
  return (await rollupMetrics(deps, { ifOlderThanMs: maxAgeMs })).metrics;
}

export type MetricsWindow = 7 | 30 | 90;

/** The metrics with their trend series cut to the last `days` days. */
export function withWindow(metrics: Metrics, days: MetricsWindow): Metrics {
  const cut = (series: DayValue[]) => series.slice(-days);
  return {
    ...metrics,
    revenue: metrics.revenue.map((currency) => ({ ...currency, daily: cut(currency.daily) })),
    searchVolume: { ...metrics.searchVolume, daily: cut(metrics.searchVolume.daily) },
  };
}
