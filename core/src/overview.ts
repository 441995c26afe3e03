// Everything the operator's overview shows, in one read (PRODUCT.md §7, seed Part 3.1): the
// overall red/yellow/green, open alerts (red first), the metrics, the pending work with its
// estimated time, the last alerts, health, and the last weekly checkup. The Monday check is this
// one screen. Metrics come from the rollup's snapshot; the rest are small indexed reads.
import type { Alert, CheckupReport, DbTx, Severity } from "@steward/db/client";
import { type HealthState, healthStates } from "./health.ts";
import { currentMetrics, type Metrics, type MetricsDeps } from "./metrics.ts";

export type PendingTaskKind = "REFUNDS" | "RECONCILIATION" | "DISPUTES" | "REVIEWS";

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
    href: "/placements",
  },
  REVIEWS: { kind: "REVIEWS", label: "Reviews pending approval", minutesEach: 1.5, priority: 4, href: "/reviews" },
};

/** Work waiting first, by priority; empty tasks after (still shown, with 0). */
export function sortTasks(tasks: PendingTask[]): PendingTask[] {
  return [...tasks].sort((a, b) => Number(b.count > 0) - Number(a.count > 0) || a.priority - b.priority);
}

export async function pendingTasks(db: DbTx): Promise<PendingTask[]> {
  // The four counts in one round trip (each an index-only count): the overview asks on every request.
  const [row] = await db.$queryRaw<Record<PendingTaskKind, number>[]>`
    SELECT (SELECT count(*) FROM "RefundRequest" WHERE status = 'PENDING')::int AS "REFUNDS",
           (SELECT count(*) FROM "Discrepancy" WHERE resolution IS NULL)::int AS "RECONCILIATION",
           (SELECT count(*) FROM "Business" WHERE status = 'FLAGGED_FOR_REVIEW')::int AS "DISPUTES",
           (SELECT count(*) FROM "Review" WHERE status = 'PENDING')::int AS "REVIEWS"`;
  const counts: Record<PendingTaskKind, number> = row ?? { REFUNDS: 0, RECONCILIATION: 0, DISPUTES: 0, REVIEWS: 0 };
  return sortTasks(
    Object.values(TASKS).map((task) => ({
      ...task,
      count: counts[task.kind],
      estimatedMinutes: Math.ceil(counts[task.kind] * task.minutesEach),
    })),
  );
}

/** Open (firing or acknowledged) alerts, red first, then the most recently seen. */
export async function openAlerts(db: DbTx, limit = 20): Promise<Alert[]> {
  // PostgreSQL orders an enum by its declaration (GREEN, YELLOW, RED): descending puts red first.
  return db.alert.findMany({
    where: { status: { in: ["FIRING", "ACKNOWLEDGED"] } },
    orderBy: [{ severity: "desc" }, { lastSeenAt: "desc" }, { id: "desc" }],
    take: limit,
  });
}

/** The worst severity among open alerts; GREEN when none is open. */
export function overallStatus(alerts: readonly Pick<Alert, "severity">[]): Severity {
  if (alerts.some((alert) => alert.severity === "RED")) return "RED";
  if (alerts.some((alert) => alert.severity === "YELLOW")) return "YELLOW";
  return "GREEN";
}

export interface Overview {
  status: Severity;
  openAlerts: Alert[];
  /** The last alerts seen, whatever their status (the activity log). */
  recentAlerts: Alert[];
  metrics: Metrics;
  pendingTasks: PendingTask[];
  health: HealthState[];
  lastCheckup: CheckupReport | null;
}

export async function loadOverview(deps: MetricsDeps): Promise<Overview> {
  const { db } = deps;
  const [metrics, open, recentAlerts, tasks, health, lastCheckup] = await Promise.all([
    currentMetrics(deps),
    openAlerts(db),
    db.alert.findMany({ orderBy: [{ lastSeenAt: "desc" }, { id: "desc" }], take: 5 }),
    pendingTasks(db),
    healthStates(db),
    db.checkupReport.findFirst({ orderBy: { createdAt: "desc" } }),
  ]);
  return {
    status: overallStatus(open),
    openAlerts: open,
    recentAlerts,
    metrics,
    pendingTasks: tasks,
    health,
    lastCheckup,
  };
}
