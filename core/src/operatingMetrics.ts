// The seeds' operating metrics beyond the overview's (issue 19.3), for the Metrics page: how long
// businesses wait in the featured queue and how fast it moves, placements ended early by a refund,
// refunds by reason and by region, the payment failure rate, the AI provider's uptime and calls by
// classifier, and the most searched terms.
//
// They are computed by the metrics-rollup job at most every OPERATING_REFRESH_MS and stored as
// their own snapshot row (MetricsSnapshot key "operating"), so the overview's query and its
// snapshot stay as they were: the overview's cost does not grow with them.
//
// Definitions (shown on the page):
// - A promotion is a placement that waited in the queue (activated more than a minute after its
//   purchase); queue velocity = promotions per week, queue wait = their average wait, by the week
//   they were activated (the marketplace's weeks, Monday first).
// - Ended early = a placement that had run (activated) and was refunded, by the month it ended.
// - Refunds by reason: refund requests approved or being processed in the last 90 days; by
//   region: payments refunded (fully or partly) among those purchased in the last 90 days.
// - Payment failure rate = FAILED ÷ settled (all but PENDING) payments created, per week.
// - AI uptime = the share of the ai_provider health checks that passed, per day (30 days).
// - Search terms: trimmed, lower-cased queries of the last 7 days.
import type { Db, DbTx } from "@steward/db/client";
import { addDays, type Day, dayIn, startOfMonth, startOfWeek } from "./calendar.ts";
import type { CoreDeps } from "./deps.ts";
import type { JobOutcome } from "./jobRuns.ts";
import { type DayValue, type MetricsSettings, metricsSettings, rollupMetrics } from "./metrics.ts";

const SNAPSHOT_KEY = "operating";
/** The rollup recomputes them at most this often (they move by the week and the month). */
export const OPERATING_REFRESH_MS = 10 * 60_000;
const WEEKS = 12;
const MONTHS = 12;
const RECENT_DAYS = 90;
const UPTIME_DAYS = 30;
const SEARCH_DAYS = 7;
const TOP_TERMS = 10;

export interface CountBy {
  key: string;
  count: number;
}

export interface OperatingMetrics {
  computedAt: string;
  timeZone: string;
  queueWait: {
    /** Average hours waited by the businesses promoted in the last 4 weeks (null: none). */
    averageHours: number | null;
    /** Average hours per week (by week start), 0 for a week without promotions. */
    weekly: DayValue[];
  };
  queueVelocity: { lastFourWeeksPerWeek: number; weekly: DayValue[] };
  endedEarly: { thisMonth: number; monthly: DayValue[] };
  refundsByReason: CountBy[];
  refundsByRegion: CountBy[];
  paymentFailureRate: {
    /** Over the last 4 weeks; null without settled payments. */
    rate: number | null;
    failed: number;
    settled: number;
    /** Percent per week. */
    weekly: DayValue[];
  };
  aiUptime: {
    /** Percent of passing checks over 30 days; null before any check ran. */
    percent: number | null;
    daily: DayValue[];
    callsByClassifierThisMonth: CountBy[];
  };
  topSearchTerms: CountBy[];
}

const dayString = (value: Date) => value.toISOString().slice(0, 10);

/** Every period start from `first`, `step` apart, to `last`, with the values found (0 elsewhere). */
function series(first: Day, last: Day, stepDays: (day: Day) => Day, values: ReadonlyMap<string, number>): DayValue[] {
  const points: DayValue[] = [];
  for (let day = first; day <= last; day = stepDays(day)) points.push({ day, value: values.get(day) ?? 0 });
  return points;
}

const nextMonth = (day: Day): Day => {
  const [year, month] = day.split("-").map(Number) as [number, number];
  return month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, "0")}-01`;
};

export async function computeOperatingMetrics(tx: DbTx, timeZone: string, now: Date): Promise<OperatingMetrics> {
  const today = dayIn(now, timeZone);
  const thisWeek = startOfWeek(today);
  const firstWeek = addDays(thisWeek, -7 * (WEEKS - 1));
  const lastFourWeeks = addDays(thisWeek, -21);
  const thisMonth = startOfMonth(today);
  let firstMonth = thisMonth;
  for (let i = 1; i < MONTHS; i++) firstMonth = startOfMonth(addDays(firstMonth, -1));
  const recent = new Date(now.getTime() - RECENT_DAYS * 86_400_000);

  const [promotions, endedEarly, byReason, byRegion, payments, uptime, classifiers, terms] = await Promise.all([
    tx.$queryRaw<{ week: Date; promotions: number; averageHours: number }[]>`
      SELECT date_trunc('week', ("activatedAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date AS week,
             count(*)::int AS promotions,
             avg(extract(epoch FROM "activatedAt" - "purchasedAt") / 3600)::float8 AS "averageHours"
        FROM "Placement"
       WHERE "activatedAt" >= ((${firstWeek}::date)::timestamp AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC'
         AND "activatedAt" > "purchasedAt" + interval '1 minute'
       GROUP BY 1`,
    tx.$queryRaw<{ month: Date; ended: number }[]>`
      SELECT date_trunc('month', ("endedAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date AS month,
             count(*)::int AS ended
        FROM "Placement"
       WHERE status = 'REFUNDED' AND "activatedAt" IS NOT NULL AND "endedAt" >= ((${firstMonth}::date)::timestamp AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC'
       GROUP BY 1`,
    tx.$queryRaw<CountBy[]>`
      SELECT reason AS key, count(*)::int AS count FROM "RefundRequest"
       WHERE status IN ('APPROVED', 'PROCESSING') AND "createdAt" >= ${recent}
       GROUP BY reason ORDER BY count DESC, reason LIMIT 20`,
    tx.$queryRaw<CountBy[]>`
      SELECT r.name AS key, count(*)::int AS count
        FROM "Payment" p JOIN "Business" b ON b.id = p."businessId" JOIN "Region" r ON r.id = b."regionId"
       WHERE p.status IN ('REFUNDED', 'PARTIALLY_REFUNDED') AND p."purchasedAt" >= ${recent}
       GROUP BY r.name ORDER BY count DESC, r.name LIMIT 20`,
    tx.$queryRaw<{ week: Date; failed: number; settled: number }[]>`
      SELECT date_trunc('week', ("createdAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date AS week,
             count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
             count(*) FILTER (WHERE status <> 'PENDING')::int AS settled
        FROM "Payment" WHERE "createdAt" >= ((${firstWeek}::date)::timestamp AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC'
       GROUP BY 1`,
    tx.$queryRaw<{ day: Date; passed: number; checks: number }[]>`
      SELECT (("checkedAt" AT TIME ZONE 'UTC') AT TIME ZONE ${timeZone})::date AS day,
             count(*) FILTER (WHERE ok)::int AS passed, count(*)::int AS checks
        FROM "HealthCheckResult"
       WHERE "check" = 'ai_provider' AND "checkedAt" >= ((${addDays(today, 1 - UPTIME_DAYS)}::date)::timestamp AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC'
       GROUP BY 1`,
    tx.$queryRaw<CountBy[]>`
      SELECT classifier AS key, count(*)::int AS count FROM "ReviewScore"
       WHERE "createdAt" >= ((${thisMonth}::date)::timestamp AT TIME ZONE ${timeZone}) AT TIME ZONE 'UTC'
       GROUP BY classifier ORDER BY count DESC, classifier`,
    tx.$queryRaw<CountBy[]>`
      SELECT lower(btrim(query)) AS key, count(*)::int AS count FROM "SearchEvent"
       WHERE "occurredAt" >= ${new Date(now.getTime() - SEARCH_DAYS * 86_400_000)} AND btrim(query) <> ''
       GROUP BY 1 ORDER BY count DESC, key LIMIT ${TOP_TERMS}`,
  ]);

  const weekly = <Row extends { week: Date }>(rows: readonly Row[], value: (row: Row) => number) =>
    series(
      firstWeek,
      thisWeek,
      (day) => addDays(day, 7),
      new Map(rows.map((row) => [dayString(row.week), value(row)])),
    );
  const recentPromotions = promotions.filter((row) => dayString(row.week) >= lastFourWeeks);
  const promoted = recentPromotions.reduce((total, row) => total + row.promotions, 0);
  const waitedHours = recentPromotions.reduce((total, row) => total + row.averageHours * row.promotions, 0);
  const recentPayments = payments.filter((row) => dayString(row.week) >= lastFourWeeks);
  const failed = recentPayments.reduce((total, row) => total + row.failed, 0);
  const settled = recentPayments.reduce((total, row) => total + row.settled, 0);
  const passed = uptime.reduce((total, row) => total + row.passed, 0);
  const checks = uptime.reduce((total, row) => total + row.checks, 0);
  const round1 = (value: number) => Math.round(value * 10) / 10;

  return {
    computedAt: now.toISOString(),
    timeZone,
    queueWait: {
      averageHours: promoted === 0 ? null : round1(waitedHours / promoted),
      weekly: weekly(promotions, (row) => round1(row.averageHours)),
    },
    queueVelocity: {
      lastFourWeeksPerWeek: round1(promoted / 4),
      weekly: weekly(promotions, (row) => row.promotions),
    },
    endedEarly: {
      thisMonth: endedEarly.find((row) => dayString(row.month) === thisMonth)?.ended ?? 0,
      monthly: series(
        firstMonth,
        thisMonth,
        nextMonth,
        new Map(endedEarly.map((row) => [dayString(row.month), row.ended])),
      ),
    },
    refundsByReason: byReason,
    refundsByRegion: byRegion,
    paymentFailureRate: {
      rate: settled === 0 ? null : failed / settled,
      failed,
      settled,
      weekly: weekly(payments, (row) => (row.settled === 0 ? 0 : round1((row.failed / row.settled) * 100))),
    },
    aiUptime: {
      percent: checks === 0 ? null : round1((passed / checks) * 100),
      daily: series(
        addDays(today, 1 - UPTIME_DAYS),
        today,
        (day) => addDays(day, 1),
        new Map(uptime.map((row) => [dayString(row.day), round1((row.passed / row.checks) * 100)])),
      ),
      callsByClassifierThisMonth: classifiers,
    },
    topSearchTerms: terms,
  };
}

/** Recomputes and stores them when the stored ones are older than OPERATING_REFRESH_MS (the rollup job). */
export async function refreshOperatingMetrics(
  db: Db,
  settings: Pick<MetricsSettings, "timeZone">,
  now = new Date(),
  maxAgeMs = OPERATING_REFRESH_MS,
): Promise<{ metrics: OperatingMetrics; refreshed: boolean }> {
  const stored = await db.metricsSnapshot.findUnique({ where: { key: SNAPSHOT_KEY } });
  const storedMetrics = stored?.metrics as unknown as OperatingMetrics | undefined;
  if (stored && storedMetrics?.timeZone === settings.timeZone && now.getTime() - stored.computedAt.getTime() < maxAgeMs)
    return { metrics: storedMetrics, refreshed: false };
  const metrics = await computeOperatingMetrics(db, settings.timeZone, now);
  // One statement, so concurrent first readers do not race on the row's creation.
  await db.$executeRaw`
    INSERT INTO "MetricsSnapshot" (key, metrics, watermark, "computedAt")
    VALUES (${SNAPSHOT_KEY}, ${JSON.stringify(metrics)}::jsonb, ${now}, ${now})
    ON CONFLICT (key) DO UPDATE SET metrics = EXCLUDED.metrics, watermark = EXCLUDED.watermark,
                                    "computedAt" = EXCLUDED."computedAt"`;
  return { metrics, refreshed: true };
}

/** What the Metrics page reads: the stored snapshot, computed once if the rollup has not run yet. */
export async function currentOperatingMetrics(
  db: Db,
  settings: Pick<MetricsSettings, "timeZone">,
  now = new Date(),
): Promise<OperatingMetrics> {
  // A rollup that stopped leaves the page an hour behind at most.
  return (await refreshOperatingMetrics(db, settings, now, 6 * OPERATING_REFRESH_MS)).metrics;
}

/**
 * The metrics-rollup job (every minute): the overview's metrics rolled up and published, then the
 * Metrics page's operating metrics when theirs are due (every 10 minutes).
 */
export async function rollupAllMetrics(deps: Pick<CoreDeps, "db" | "events" | "env">): Promise<JobOutcome> {
  const started = performance.now();
  const settings = metricsSettings(deps.env);
  const { metrics, full } = await rollupMetrics({ db: deps.db, events: deps.events, settings });
  const operating = await refreshOperatingMetrics(deps.db, settings);
  const ms = Math.round(performance.now() - started);
  return {
    summary: `metrics ${full ? "rebuilt" : "rolled up"}${operating.refreshed ? ", operating metrics recomputed," : ""} in ${ms} ms (today ${metrics.today})`,
    changes: { full, ms, operatingRefreshed: operating.refreshed },
  };
}
