// Health checks: probes of what Steward depends on (PostgreSQL, Redis, the AI provider, Stripe)
// and measures of how the business runs (webhook failures, job health, the API's own error rate
// and p95, queue backlog per region, refund rate), one file each in health/checks/, listed in
// health/registry.ts. One run measures every check, evaluates the alert rules on the snapshot,
// stores one HealthCheckResult per check (the time series the dashboard charts), raises/clears
// alerts, lets the AI failover automation act, and publishes healthChanged.
import type { Db, DbTx, HealthCheckResult, Severity, SqlReader } from "@steward/db/client";
import { prismaSqlReader } from "@steward/db/sql";
import type { SharedStore } from "./ports/sharedStore.ts";
import { systemActor } from "./actor.ts";
import { decideAndApplyAiFailover, type FailoverOutcome } from "./aiFailover.ts";
import {
  activeRules,
  aiProviderDownRule,
  type CheckName,
  checkNames,
  effectiveThresholds,
  evaluateRule,
  type HealthSnapshot,
} from "./alertRules.ts";
import { type AlertCondition, type AlertDeps, clearAlert, raiseAlert } from "./alerts.ts";
import { readWindowSummary, type WindowSummary } from "./apiWindow.ts";
import type { Env } from "./env.ts";
import { type CheckContext, DAY, MINUTE } from "./health/check.ts";
import { healthChecks } from "./health/registry.ts";
import type { PaymentsGateway } from "./ports/payments.ts";
import { SEVERITY_RANK, worst } from "./severity.ts";

/** Health results are kept this long (a chart's longest window is a week). */
export const HEALTH_RETENTION_MS = 30 * DAY;

export type HealthDeps = AlertDeps & {
  redis: SharedStore;
  stripe: PaymentsGateway;
  env: Pick<Env, "AI_MODE" | "AI_PROVIDER_URL" | "AI_TIMEOUT_MS" | "REDIS_PREFIX">;
};

// ───────────────────────────── One run ─────────────────────────────

export interface HealthRunResult {
  overall: Severity;
  results: HealthCheckResult[];
  conditions: AlertCondition[];
  failover: FailoverOutcome;
}

export async function runHealthChecks(deps: HealthDeps, now = new Date()): Promise<HealthRunResult> {
  const { db, redis, env } = deps;
  const rules = await activeRules(db);
  const thresholdsOf = (key: string) => rules.find((entry) => entry.rule.key === key)?.thresholds;
  let apiWindow: Promise<WindowSummary | null> | undefined;
  const context: CheckContext = {
    db,
    redis,
    stripe: deps.stripe,
    env,
    now,
    thresholds: (rule) => effectiveThresholds(rule, thresholdsOf(rule.key)),
    apiWindow: () => (apiWindow ??= readWindowSummary(redis, env.REDIS_PREFIX, now.getTime()).catch(() => null)),
  };
  const measured = await Promise.all(
    healthChecks.map(async (check) => ({ check, outcome: await check.measure(context) })),
  );
  const snapshot = completeSnapshot(
    measured.reduce<Partial<HealthSnapshot>>((parts, { outcome }) => ({ ...parts, ...outcome.snapshot }), {}),
  );

  const firingByRule = new Map<string, AlertCondition[]>();
  for (const { rule, enabled, thresholds } of rules)
    firingByRule.set(rule.key, enabled ? evaluateRule(rule, snapshot, thresholds) : []);
  const conditions = [...firingByRule.values()].flat();
  const severityOfCheck = (check: CheckName, probeOk: boolean): Severity =>
    worst([
      probeOk ? "GREEN" : "YELLOW",
      ...rules
        .filter((entry) => entry.rule.check === check)
        .flatMap((entry) => firingByRule.get(entry.rule.key) ?? [])
        .map((condition) => condition.severity),
    ]);

  const rows: Omit<HealthCheckResult, "id">[] = measured.map(({ check, outcome: { result } }) => ({
    check: check.name,
    ok: result.ok,
    latencyMs: result.latencyMs,
    value: result.value,
    detail: result.detail,
    status: result.status ?? severityOfCheck(check.name, result.ok),
    checkedAt: now,
  }));
  const results = await db.healthCheckResult.createManyAndReturn({ data: rows });

  // Alerts: firing conditions open or update theirs; a rule's other open alerts have cleared.
  for (const condition of conditions) await raiseAlert(deps, condition, now);
  const actor = systemActor("health-checks");
  for (const { rule, enabled } of rules) {
    const firing = new Set((firingByRule.get(rule.key) ?? []).map((condition) => condition.fingerprint));
    const open = await db.alert.findMany({
      where: { ruleKey: rule.key, status: { not: "RESOLVED" } },
      select: { fingerprint: true },
    });
    for (const alert of open.filter((candidate) => !firing.has(candidate.fingerprint)))
      await clearAlert(
        deps,
        alert.fingerprint,
        enabled ? `Cleared: ${rule.title.toLowerCase()} back within its threshold` : `Rule ${rule.key} was disabled`,
        actor,
      );
  }

  const ai = snapshot.aiProvider;
  const failover = await decideAndApplyAiFailover(
    deps,
    {
      configured: ai.configured,
      ok: ai.ok,
      downForMinutes: ai.downForMinutes,
      healthyForMinutes: ai.healthyForMinutes ?? null,
      thresholds: context.thresholds(aiProviderDownRule),
    },
    now,
  );

  const overall = worst(results.map((result) => result.status));
  deps.events.publish("healthChanged", { overall, checkedAt: now.toISOString() });
  return { overall, results, conditions, failover };
}

/** The rules read every part of the snapshot: a check that feeds one missing from the registry is a bug. */
function completeSnapshot(parts: Partial<HealthSnapshot>): HealthSnapshot {
  const { postgres, aiProvider, stripe, webhooks, api, queueBacklog, refunds, database } = parts;
  if (!postgres || !aiProvider || !stripe || !webhooks || !api || !queueBacklog || !refunds || database === undefined)
    throw new Error("A health check the alert rules read is missing from the registry (core/src/health/registry.ts)");
  return { postgres, aiProvider, stripe, webhooks, api, queueBacklog, refunds, database };
}

// ───────────────────────────── Reading ─────────────────────────────

export interface CheckStatus {
  check: CheckName;
  latest: HealthCheckResult | null;
}

export interface HealthOverview {
  overall: Severity;
  checkedAt: Date | null;
  /** No run for STALE_AFTER_MS: the checks themselves are not running (the worker is down?). */
  stale: boolean;
  checks: CheckStatus[];
}

/** Runs are every minute; five missed in a row make the picture stale (at least YELLOW). */
export const STALE_AFTER_MS = 5 * MINUTE;

/** Each check's latest row, one index probe each on (check, checkedAt): `$1` is the check names. */
export const LATEST_HEALTH_ROWS = `SELECT r.* FROM unnest($1::text[]) AS wanted(name)
    CROSS JOIN LATERAL (
      SELECT * FROM "HealthCheckResult" h WHERE h."check" = wanted.name ORDER BY h."checkedAt" DESC LIMIT 1
    ) r`;

/** Each check's latest result and the overall RAG (the worst of them); the overview reuses it. */
export async function latestHealth(db: DbTx, now = new Date(), sql?: SqlReader): Promise<HealthOverview> {
  // One round trip for every check's latest row, not a query per check (through `sql`, plain pg, when given).
  const latestRows = await (sql ?? prismaSqlReader(db)).rows<HealthCheckResult>(LATEST_HEALTH_ROWS, [[...checkNames]]);
  return healthOverviewOf(latestRows, now);
}

/** The picture those latest rows give: a check without a row has not run yet. */
export function healthOverviewOf(latestRows: readonly HealthCheckResult[], now = new Date()): HealthOverview {
  const byCheck = new Map(latestRows.map((row) => [row.check, row]));
  const checks = checkNames.map((check) => ({ check, latest: byCheck.get(check) ?? null }));
  const known = checks.flatMap((entry) => (entry.latest ? [entry.latest] : []));
  const checkedAt = known.reduce<Date | null>(
    (latest, result) => (latest === null || result.checkedAt > latest ? result.checkedAt : latest),
    null,
  );
  const stale = checkedAt === null || now.getTime() - checkedAt.getTime() > STALE_AFTER_MS;
  const overall = worst([...known.map((result) => result.status), ...(stale && checkedAt ? ["YELLOW" as const] : [])]);
  return { overall, checkedAt, stale, checks };
}

/** A check's latest state in the overview's words: a check that never ran is UNKNOWN. */
export interface HealthState {
  check: string;
  /** CHECKING: no result yet, in the first minute (the overview); UNKNOWN: none after that. */
  state: "OK" | "FAILING" | "UNKNOWN" | "CHECKING";
  checkedAt: string | null;
  latencyMs: number | null;
  detail: string | null;
}

/** A check with no result reads CHECKING while the oldest result is younger than this (a system's first minute). */
export const CHECKING_GRACE_MS = 60_000;

export function healthStatesOf(checks: HealthOverview["checks"], now = new Date()): HealthState[] {
  const oldest = checks.reduce<number | null>((min, { latest }) => {
    const at = latest?.checkedAt.getTime() ?? null;
    return at === null ? min : min === null ? at : Math.min(min, at);
  }, null);
  const starting = oldest === null || now.getTime() - oldest < CHECKING_GRACE_MS;
  return checks.map(({ check, latest }) => ({
    check,
    state: latest === null ? (starting ? "CHECKING" : "UNKNOWN") : latest.ok ? "OK" : "FAILING",
    checkedAt: latest?.checkedAt.toISOString() ?? null,
    latencyMs: latest?.latencyMs ?? null,
    detail: latest?.detail ?? null,
  }));
}

export async function healthStates(db: DbTx, now = new Date()): Promise<HealthState[]> {
  return healthStatesOf((await latestHealth(db, now)).checks, now);
}

export const healthWindows = { LAST_HOUR: 60 * MINUTE, LAST_DAY: DAY, LAST_WEEK: 7 * DAY } as const;
export type HealthWindow = keyof typeof healthWindows;
const MAX_POINTS = 300;

export interface HealthPoint {
  at: Date;
  ok: boolean;
  value: number | null;
  status: Severity;
}

/** A check's results over a window for a chart, thinned to at most 300 points (worst of each bucket kept). */
export async function healthHistory(
  db: Db,
  check: CheckName,
  window: HealthWindow,
  now = new Date(),
): Promise<HealthPoint[]> {
  const rows = await db.healthCheckResult.findMany({
    where: { check, checkedAt: { gte: new Date(now.getTime() - healthWindows[window]), lte: now } },
    orderBy: { checkedAt: "asc" },
    select: { checkedAt: true, ok: true, value: true, status: true },
  });
  const points = rows.map((row) => ({ at: row.checkedAt, ok: row.ok, value: row.value, status: row.status }));
  if (points.length <= MAX_POINTS) return points;
  const size = Math.ceil(points.length / MAX_POINTS);
  const thinned: HealthPoint[] = [];
  for (let start = 0; start < points.length; start += size) {
    const bucket = points.slice(start, start + size);
    // The bucket's worst moment stays visible: an outage never disappears from a weekly chart.
    const pick = bucket.reduce((a, b) => {
      const bySeverity = SEVERITY_RANK[b.status] - SEVERITY_RANK[a.status];
      if (bySeverity !== 0) return bySeverity > 0 ? b : a;
      return (b.value ?? -Infinity) > (a.value ?? -Infinity) ? b : a;
    });
    thinned.push(pick);
  }
  return thinned;
}

export async function pruneHealthResults(db: Db, now = new Date()): Promise<number> {
  const { count } = await db.healthCheckResult.deleteMany({
    where: { checkedAt: { lt: new Date(now.getTime() - HEALTH_RETENTION_MS) } },
  });
  return count;
}
