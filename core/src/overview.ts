// Everything the operator's overview shows, in one read (PRODUCT.md §7, seed Part 3.1): the
// overall red/yellow/green, open alerts (red first), the metrics, the pending work with its
// estimated time, the last alerts, health, and the last weekly checkup. The Monday check is this
// one screen. Metrics come from the rollup's snapshot; the rest are small indexed reads, in one statement.
import type { Alert, CheckupReport, HealthCheckResult, Severity, SqlReader } from "@steward/db/client";
import { jsonTimestamp } from "@steward/db/sql";
import { checkNames } from "./alertRules.ts";
import { type HealthState, healthOverviewOf, healthStatesOf, LATEST_HEALTH_ROWS } from "./health.ts";
import type { JobHealth, ScheduledJob } from "./jobHealth.ts";
import { classifyLateness } from "./jobHealth.ts";
import {
  type Metrics,
  type MetricsDeps,
  metricsOf,
  parsedSnapshotVersion,
  type SnapshotColumns,
  snapshotColumns,
} from "./metrics.ts";
import { fromJson, type JsonRow, Params } from "./reads/rows.ts";
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
 * (see jobsDueOf); open alerts are work too, until acknowledged or resolved.
 */
type TaskCounts = Omit<Record<PendingTaskKind, number>, "JOBS">;

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

/** The worst severity among open alerts and the checks' latest results; GREEN when all is well. */
export function overallStatus(alerts: readonly Pick<Alert, "severity">[], checks: readonly Severity[] = []): Severity {
  return worst([...alerts.map((alert) => alert.severity), ...checks]);
}

/** Scheduled jobs that are late (yellow/red) or have never run, from each one's last success. */
export function jobsDueOf(
  jobs: readonly ScheduledJob[],
  lastSuccess: ReadonlyMap<string, Date | null>,
  now = new Date(),
): JobHealth[] {
  return jobs.flatMap((job): JobHealth[] => {
    const at = lastSuccess.get(job.name) ?? null;
    const state = at ? classifyLateness(job.periodMinutes, (now.getTime() - at.getTime()) / 60_000) : "NEVER_RAN";
    return state === "OK" ? [] : [{ name: job.name, lastSuccessAt: at, state }];
  });
}

/** What the overview's one statement returns: lists as JSON (timestamps as text), counts as columns. */
export interface OverviewRow extends SnapshotColumns, TaskCounts {
  openAlerts: JsonRow[];
  recentAlerts: JsonRow[];
  health: JsonRow[];
  lastCheckup: JsonRow | null;
  jobSuccesses: { jobName: string; finishedAt: string | null }[];
}

/**
 * Every read of the overview in one statement: each read is a small indexed one, so a request's
 * cost was its round trips (seven statements' socket writes were a quarter of the API's CPU at
 * 1M rows, issue 19). Open alerts are red first, then the most recently seen; the last alerts seen
 * are the activity log; the counts are index-only. `metricsParsedVersion`: the version of the
 * metrics snapshot the caller holds parsed (its JSON is then not sent again). Exported, with its name, for
 * the bench's floor server, which sends the same statement.
 */
export function overviewStatement(
  metricsParsedVersion: string | null,
  jobNames: readonly string[],
): { text: string; values: unknown[] } {
  const params = new Params();
  // PostgreSQL orders an enum by its declaration (GREEN, YELLOW, RED): descending puts red first.
  const text = `SELECT ${snapshotColumns(metricsParsedVersion, params)},
    (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.severity DESC, a."lastSeenAt" DESC, a.id DESC), '[]')
       FROM (SELECT * FROM "Alert" WHERE status IN ('FIRING', 'ACKNOWLEDGED')
              ORDER BY severity DESC, "lastSeenAt" DESC, id DESC LIMIT ${OPEN_ALERTS}) a) AS "openAlerts",
    (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a."lastSeenAt" DESC, a.id DESC), '[]')
       FROM (SELECT * FROM "Alert" ORDER BY "lastSeenAt" DESC, id DESC LIMIT ${RECENT_ALERTS}) a) AS "recentAlerts",
    (SELECT coalesce(jsonb_agg(to_jsonb(h)), '[]')
       FROM (${LATEST_HEALTH_ROWS.replace("$1", params.add([...checkNames]))}) h) AS health,
    (SELECT to_jsonb(c) FROM (SELECT * FROM "CheckupReport" ORDER BY "createdAt" DESC LIMIT 1) c) AS "lastCheckup",
    (SELECT coalesce(jsonb_agg(j), '[]') FROM (
       SELECT "jobName", max("finishedAt") AS "finishedAt" FROM "JobRun"
        WHERE "jobName" = ANY(${params.add(jobNames, "text[]")}) AND status = 'SUCCEEDED' GROUP BY "jobName") j
    ) AS "jobSuccesses",
    (SELECT count(*) FROM "Alert" WHERE status = 'FIRING')::int AS "ALERTS",
    (SELECT count(*) FROM "RefundRequest" WHERE status = 'PENDING')::int AS "REFUNDS",
    (SELECT count(*) FROM "Discrepancy" WHERE resolution IS NULL)::int AS "RECONCILIATION",
    (SELECT count(*) FROM "Business" WHERE status = 'FLAGGED_FOR_REVIEW')::int AS "DISPUTES",
    (SELECT count(*) FROM "Review" WHERE status = 'PENDING')::int AS "REVIEWS"`;
  return { text, values: params.values };
}

/** The overview statement's name: prepared once per connection (its plan costs more than its execution). */
export const OVERVIEW_STATEMENT_NAME = "steward_overview";

const OPEN_ALERTS = 20;
const RECENT_ALERTS = 5;

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
 * The overview: one prepared statement (overviewStatement) and its assembly (overviewOf). It is
 * read on every dashboard visit and kept live; the metrics snapshot is parsed once per version.
 */
export async function loadOverview(
  deps: MetricsDeps & { sql: SqlReader },
  options: OverviewOptions = {},
): Promise<Overview> {
  const { sql } = deps;
  const now = options.now ?? new Date();
  const jobs = options.scheduledJobs ?? [];
  const statement = overviewStatement(
    parsedSnapshotVersion(sql),
    jobs.map((job) => job.name),
  );
  const [row] = await sql.rows<OverviewRow>(statement.text, statement.values, OVERVIEW_STATEMENT_NAME);
  if (!row) throw new Error("The overview's statement returned no row");
  return overviewOf(row, await metricsOf(deps, row), jobs, now);
}

/**
 * The overview from its statement's row and the metrics its snapshot columns gave; no I/O (the
 * bench's floor server builds its overview with it too).
 */
export function overviewOf(row: OverviewRow, metrics: Metrics, jobs: readonly ScheduledJob[], now: Date): Overview {
  const open = row.openAlerts.map((alert) => fromJson<Alert>(alert, "Alert"));
  const recent = row.recentAlerts.map((alert) => fromJson<Alert>(alert, "Alert"));
  const latest = healthOverviewOf(
    row.health.map((result) => fromJson<HealthCheckResult>(result, "HealthCheckResult")),
    now,
  );
  const lastCheckup = row.lastCheckup ? fromJson<CheckupReport>(row.lastCheckup, "CheckupReport") : null;
  const lastSuccess = new Map(row.jobSuccesses.map((job) => [job.jobName, jsonTimestamp(job.finishedAt)]));
  const jobsDue = jobsDueOf(jobs, lastSuccess, now);
  const counts: TaskCounts = {
    ALERTS: row.ALERTS,
    REFUNDS: row.REFUNDS,
    RECONCILIATION: row.RECONCILIATION,
    DISPUTES: row.DISPUTES,
    REVIEWS: row.REVIEWS,
  };
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
