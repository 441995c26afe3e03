// Everything the operator's overview shows, in one read (PRODUCT.md §7, seed Part 3.1): the
// overall red/yellow/green, open alerts (red first), the metrics, the pending work with its
// estimated time, the last alerts, health, and the last weekly checkup. The Monday check is this
// one screen. Metrics come from the rollup's snapshot; the rest are small indexed reads.
import type { Alert, CheckupReport, Severity, SqlReader } from "@steward/db/client";
import { type HealthState, healthStatesOf, latestHealth } from "./health.ts";
import type { JobHealth, ScheduledJob } from "./jobHealth.ts";
import { classifyLateness } from "./jobHealth.ts";
import { currentMetrics, type Metrics, type MetricsDeps } from "./metrics.ts";
import { worst } from "./severity.ts";

export type PendingTaskKind = "ALERTS" | "REFUNDS" | "RECONCILIATION" | "DISPUTES" | "JOBS" | "REVIEWS";

export interface PendingTask {
  kind: PendingTaskKind;
  label: string;
  count: number;
  /** Minutes of the operator's time per item (seed Part 2 session timings). */
  minutesEach: number;
  estimatedMinutes: number;
  /** 1 is the most urgent. */
  priority: number;
  /** Where the work is done. */
  href: string;
}

// Refunds have the hard 3-day deadline; reconciliation gaps are money; disputes are people
// waiting; reviews can wait for the Thursday batch.
const TASKS: Record<PendingTaskKind, Omit<PendingTask, "count" | "estimatedMinutes">> = {
  ALERTS: { kind: "ALERTS", label: "Open alerts", minutesEach: 5, priority: 1, href: "/alerts" },
  JOBS: { kind: "JOBS", label: "Jobs due or never run", minutesEach: 5, priority: 3, href: "/jobs" },
  REFUNDS: { kind: "REFUNDS", label: "Refund requests", minutesEach: 10, priority: 1, href: "/refunds" },
  RECONCILIATION: {
    kind: "RECONCILIATION",
    label: "Reconciliation discrepancies",
    minutesEach: 5,
    priority: 2,
    href: "/reconciliation",
  },
  DISPUTES: {
    kind: "DISPUTES",
    label: "Businesses flagged for review (disputes)",
    minutesEach: 15,
    priority: 3,
    href: "/disputes",
  },
  REVIEWS: { kind: "REVIEWS", label: "Reviews pending approval", minutesEach: 1.5, priority: 4, href: "/reviews" },
};

/** Work waiting first, by priority; empty tasks after (still shown, with 0). */
export function sortTasks(tasks: PendingTask[]): PendingTask[] {
  return [...tasks].sort((a, b) => Number(b.count > 0) - Number(a.count > 0) || a.priority - b.priority);
}

/**
 * The work waiting, by priority. `jobsDue` is how many scheduled jobs are late or never ran
 * (see jobsNeedingAttention); open alerts are work too, until acknowledged or resolved.
 */
type TaskCounts = Omit<Record<PendingTaskKind, number>, "JOBS">;

/** The counts in one round trip (each an index-only count): the overview asks on every request. */
async function pendingTaskCounts(sql: SqlReader): Promise<TaskCounts> {
  const [row] = await sql.rows<TaskCounts>(
    `SELECT (SELECT count(*) FROM "Alert" WHERE status = 'FIRING')::int AS "ALERTS",
            (SELECT count(*) FROM "RefundRequest" WHERE status = 'PENDING')::int AS "REFUNDS",
            (SELECT count(*) FROM "Discrepancy" WHERE resolution IS NULL)::int AS "RECONCILIATION",
            (SELECT count(*) FROM "Business" WHERE status = 'FLAGGED_FOR_REVIEW')::int AS "DISPUTES",
            (SELECT count(*) FROM "Review" WHERE status = 'PENDING')::int AS "REVIEWS"`,
    [],
  );
  return row ?? { ALERTS: 0, REFUNDS: 0, RECONCILIATION: 0, DISPUTES: 0, REVIEWS: 0 };
}

export function pendingTasks(counted: TaskCounts, jobsDue = 0): PendingTask[] {
  const counts: Record<PendingTaskKind, number> = { ...counted, JOBS: jobsDue };
  return sortTasks(
    Object.values(TASKS).map((task) => ({
      ...task,
      count: counts[task.kind],
      estimatedMinutes: Math.ceil(counts[task.kind] * task.minutesEach),
    })),
  );
}

/** Open (firing or acknowledged) alerts, red first, then the most recently seen. */
export function openAlerts(sql: SqlReader, limit = 20): Promise<Alert[]> {
  // PostgreSQL orders an enum by its declaration (GREEN, YELLOW, RED): descending puts red first.
  return sql.rows<Alert>(
    `SELECT * FROM "Alert" WHERE status IN ('FIRING', 'ACKNOWLEDGED')
      ORDER BY severity DESC, "lastSeenAt" DESC, id DESC LIMIT $1`,
    [limit],
  );
}

/** The last alerts seen, whatever their status (the overview's activity log). */
export function recentAlerts(sql: SqlReader, limit = 5): Promise<Alert[]> {
  return sql.rows<Alert>(`SELECT * FROM "Alert" ORDER BY "lastSeenAt" DESC, id DESC LIMIT $1`, [limit]);
}

async function lastCheckupReport(sql: SqlReader): Promise<CheckupReport | null> {
  const [report] = await sql.rows<CheckupReport>(`SELECT * FROM "CheckupReport" ORDER BY "createdAt" DESC LIMIT 1`, []);
  return report ?? null;
}

/** The worst severity among open alerts and the checks' latest results; GREEN when all is well. */
export function overallStatus(alerts: readonly Pick<Alert, "severity">[], checks: readonly Severity[] = []): Severity {
  return worst([...alerts.map((alert) => alert.severity), ...checks]);
}

/** Scheduled jobs that are late (yellow/red) or have never run: read-only, unlike checkMissedRuns. */
export async function jobsNeedingAttention(
  sql: SqlReader,
  jobs: readonly ScheduledJob[],
  now = new Date(),
): Promise<JobHealth[]> {
  if (jobs.length === 0) return [];
  const rows = await sql.rows<{ jobName: string; finishedAt: Date | null }>(
    `SELECT "jobName", max("finishedAt") AS "finishedAt" FROM "JobRun"
      WHERE "jobName" = ANY($1::text[]) AND status = 'SUCCEEDED' GROUP BY "jobName"`,
    [jobs.map((job) => job.name)],
  );
  const lastSuccess = new Map(rows.map((row) => [row.jobName, row.finishedAt]));
  return jobs.flatMap((job): JobHealth[] => {
    const at = lastSuccess.get(job.name) ?? null;
    const state = at ? classifyLateness(job.periodMinutes, (now.getTime() - at.getTime()) / 60_000) : "NEVER_RAN";
    return state === "OK" ? [] : [{ name: job.name, lastSuccessAt: at, state }];
  });
}

export interface Overview {
  /** The worst of the open alerts and the failing checks (never Green over a red card). */
  status: Severity;
  /** What makes the status what it is: "2 open alerts (1 red)", "failing: ai_provider". */
  statusCauses: string[];
  /** Scheduled jobs late or never run. */
  jobsDue: JobHealth[];
  openAlerts: Alert[];
  /** The last alerts seen, whatever their status (the activity log). */
  recentAlerts: Alert[];
  metrics: Metrics;
  pendingTasks: PendingTask[];
  health: HealthState[];
  lastCheckup: CheckupReport | null;
}

export interface OverviewOptions {
  /** The worker's scheduled jobs, to count the ones due or never run. */
  scheduledJobs?: readonly ScheduledJob[];
  now?: Date;
}

/**
 * Every read of the overview at once, as plain statements on pg (it is read on every dashboard
 * visit and kept live; through Prisma each small read cost ~1 ms of CPU, issue 17 / 19).
 */
export async function loadOverview(
  deps: MetricsDeps & { sql: SqlReader },
  options: OverviewOptions = {},
): Promise<Overview> {
  const { db, sql } = deps;
  const now = options.now ?? new Date();
  // All at once: the overview takes as long as its slowest read (the queue's count at scale).
  const [metrics, open, recent, jobsDue, latest, lastCheckup, counts] = await Promise.all([
    currentMetrics(deps),
    openAlerts(sql),
    recentAlerts(sql),
    jobsNeedingAttention(sql, options.scheduledJobs ?? [], now),
    latestHealth(db, now, sql),
    lastCheckupReport(sql),
    pendingTaskCounts(sql),
  ]);
  const tasks = pendingTasks(counts, jobsDue.length);
  const health = healthStatesOf(latest.checks, now);
  const failing = latest.checks.filter(({ latest: result }) => result && !result.ok);
  const checkSeverities = failing.map(({ latest: result }) => (result!.status === "GREEN" ? "YELLOW" : result!.status));
  const red = open.filter((alert) => alert.severity === "RED").length;
  const statusCauses = [
    ...(open.length > 0
      ? [`${open.length} open alert${open.length === 1 ? "" : "s"}${red > 0 ? ` (${red} red)` : ""}`]
      : []),
    ...(failing.length > 0 ? [`failing: ${failing.map(({ check }) => check).join(", ")}`] : []),
    ...(jobsDue.length > 0 ? [`jobs due or never run: ${jobsDue.map((job) => job.name).join(", ")}`] : []),
  ];
  return {
    status: overallStatus(open, checkSeverities),
    statusCauses,
    jobsDue,
    openAlerts: open,
    recentAlerts: recent,
    metrics,
    pendingTasks: tasks,
    health,
    lastCheckup,
  };
}
