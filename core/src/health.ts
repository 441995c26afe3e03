// Health checks: probes of what Steward depends on (PostgreSQL, Redis, the AI provider, Stripe)
// and measures of how the business runs (webhook failures, job health, the API's own error rate
// and p95, queue backlog per region, refund rate). One run probes everything, evaluates the alert
// rules on the result, stores one HealthCheckResult per check (the time series the dashboard
// charts), raises/clears alerts, lets the AI failover automation act, and publishes healthChanged.
import type { Db, DbTx, HealthCheckResult, Severity } from "@steward/db/client";
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
  type RefundPattern,
  refundRateRule,
  webhookFailuresRule,
  webhookSignaturesRule,
} from "./alertRules.ts";
import { type AlertCondition, clearAlert, raiseAlert } from "./alerts.ts";
import { readWindowSummary } from "./apiWindow.ts";
import type { Env } from "./env.ts";
import type { EventBus } from "./ports/events.ts";
import type { PaymentsGateway } from "./ports/payments.ts";
import { deliveriesSince } from "./webhookDeliveries.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Alert rule keys of the job health conditions (raised by the worker as jobs run). */
const JOB_RULE_KEYS = ["job-failed-all-attempts", "job-missed-run", "jobs.failed_all_attempts", "jobs.missed_run"];
/** Health results are kept this long (a chart's longest window is a week). */
export const HEALTH_RETENTION_MS = 30 * DAY;

export interface HealthDeps {
  db: Db;
  redis: SharedStore;
  stripe: PaymentsGateway;
  events?: EventBus;
  env: Pick<Env, "AI_MODE" | "AI_PROVIDER_URL" | "AI_TIMEOUT_MS" | "REDIS_PREFIX">;
}

const severityRank: Record<Severity, number> = { GREEN: 0, YELLOW: 1, RED: 2 };
export function worst(severities: Iterable<Severity>): Severity {
  let result: Severity = "GREEN";
  for (const severity of severities) if (severityRank[severity] > severityRank[result]) result = severity;
  return result;
}

// ───────────────────────────── Probes ─────────────────────────────

interface Probe {
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

async function timed(work: () => Promise<unknown>, timeoutMs: number): Promise<Probe> {
  const started = performance.now();
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) };
  }
}

async function probeAiProvider(env: HealthDeps["env"]): Promise<Probe & { configured: boolean }> {
  const url = env.AI_PROVIDER_URL;
  if (!url) return { configured: false, ok: true, latencyMs: null };
  const probe = await timed(async () => {
    const response = await fetch(`${url.replace(/\/$/, "")}/health`, {
      signal: AbortSignal.timeout(env.AI_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  }, env.AI_TIMEOUT_MS + 500);
  return { configured: true, ...probe };
}

// ───────────────────────────── Measures from the database ─────────────────────────────

/** Minutes of the current streak: since the first result of the opposite state after the last change. */
async function streakMinutes(db: Db, check: CheckName, okNow: boolean, now: Date): Promise<number> {
  const lastOpposite = await db.healthCheckResult.findFirst({
    where: { check, ok: !okNow, checkedAt: { lt: now } },
    orderBy: { checkedAt: "desc" },
    select: { checkedAt: true },
  });
  const firstOfStreak = await db.healthCheckResult.findFirst({
    where: { check, ok: okNow, checkedAt: { lt: now, ...(lastOpposite ? { gt: lastOpposite.checkedAt } : {}) } },
    orderBy: { checkedAt: "asc" },
    select: { checkedAt: true },
  });
  return (now.getTime() - (firstOfStreak?.checkedAt ?? now).getTime()) / MINUTE;
}

async function consecutiveFailures(db: Db, check: CheckName, okNow: boolean, now: Date): Promise<number> {
  if (okNow) return 0;
  const recent = await db.healthCheckResult.findMany({
    where: { check, checkedAt: { lt: now } },
    orderBy: { checkedAt: "desc" },
    take: 60,
    select: { ok: true },
  });
  const before = recent.findIndex((result) => result.ok);
  return 1 + (before < 0 ? recent.length : before);
}

async function queueBacklog(db: Db): Promise<HealthSnapshot["queueBacklog"]> {
  const grouped = await db.placement.groupBy({ by: ["regionId"], where: { status: "QUEUED" }, _count: true });
  if (grouped.length === 0) return [];
  const regions = await db.region.findMany({
    where: { id: { in: grouped.map((group) => group.regionId) } },
    select: { id: true, name: true },
  });
  const names = new Map(regions.map((region) => [region.id, region.name]));
  return grouped
    .map((group) => ({ regionId: group.regionId, regionName: names.get(group.regionId) ?? "?", queued: group._count }))
    .sort((a, b) => b.queued - a.queued);
}

/** Playbook 5: purchases of the window, how many were refunded, and the refunds' pattern. */
export async function refundRateOverWindow(
  db: DbTx,
  windowDays: number,
  now: Date,
): Promise<HealthSnapshot["refunds"]> {
  const since = new Date(now.getTime() - windowDays * DAY);
  const purchases = await db.payment.findMany({
    where: { purchasedAt: { gte: since, lte: now }, status: { in: ["SUCCEEDED", "REFUNDED", "PARTIALLY_REFUNDED"] } },
    select: {
      status: true,
      purchasedAt: true,
      businessId: true,
      business: { select: { name: true, createdAt: true, region: { select: { name: true } } } },
    },
  });
  const refunded = purchases.filter((payment) => payment.status !== "SUCCEEDED");
  const perBusiness = new Map<string, { businessId: string; businessName: string; refunds: number }>();
  const perRegion = new Map<string, number>();
  const byBusinessAge = { new: 0, recent: 0, established: 0 };
  for (const payment of refunded) {
    const entry = perBusiness.get(payment.businessId) ?? {
      businessId: payment.businessId,
      businessName: payment.business.name,
      refunds: 0,
    };
    entry.refunds++;
    perBusiness.set(payment.businessId, entry);
    perRegion.set(payment.business.region.name, (perRegion.get(payment.business.region.name) ?? 0) + 1);
    const ageDays = (payment.purchasedAt.getTime() - payment.business.createdAt.getTime()) / DAY;
    if (ageDays <= 7) byBusinessAge.new++;
    else if (ageDays <= 30) byBusinessAge.recent++;
    else byBusinessAge.established++;
  }
  const pattern: RefundPattern = {
    repeatRefunders: [...perBusiness.values()].filter((b) => b.refunds > 1).sort((a, b) => b.refunds - a.refunds),
    byRegion: [...perRegion.entries()]
      .map(([regionName, refunds]) => ({ regionName, refunds }))
      .sort((a, b) => b.refunds - a.refunds),
    byBusinessAge,
  };
  return { purchases: purchases.length, refunded: refunded.length, pattern };
}

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
  const webhookThresholds = effectiveThresholds(webhookFailuresRule, thresholdsOf(webhookFailuresRule.key));
  const refundThresholds = effectiveThresholds(refundRateRule, thresholdsOf(refundRateRule.key));
  const signatureThresholds = effectiveThresholds(webhookSignaturesRule, thresholdsOf(webhookSignaturesRule.key));

  const [postgres, redisProbe, ai, stripe] = await Promise.all([
    timed(() => db.$queryRaw`SELECT 1`, 5000),
    timed(() => redis.ping(), 5000),
    probeAiProvider(env),
    timed(() => deps.stripe.charges.list({ limit: 1 }), 15_000),
  ]);
  const [aiStreak, stripeFailures, failedWebhooks, jobAlerts, api, backlog, refunds, deliveries] = await Promise.all([
    ai.configured ? streakMinutes(db, "ai_provider", ai.ok, now) : Promise.resolve(0),
    consecutiveFailures(db, "stripe", stripe.ok, now),
    db.stripeWebhookEvent.count({
      where: {
        status: "FAILED",
        receivedAt: { gte: new Date(now.getTime() - webhookThresholds.windowMinutes * MINUTE) },
      },
    }),
    db.alert.findMany({
      where: { ruleKey: { in: JOB_RULE_KEYS }, status: { not: "RESOLVED" } },
      select: { severity: true, title: true },
    }),
    readWindowSummary(redis, env.REDIS_PREFIX, now.getTime()).catch(() => null),
    queueBacklog(db),
    refundRateOverWindow(db, refundThresholds.windowDays, now),
    deliveriesSince(redis, env.REDIS_PREFIX, signatureThresholds.windowMinutes, now.getTime()).catch(() => null),
  ]);

  const snapshot: HealthSnapshot = {
    postgres: { ok: postgres.ok, latencyMs: postgres.latencyMs },
    aiProvider: { configured: ai.configured, ok: ai.ok, downForMinutes: ai.configured && !ai.ok ? aiStreak : null },
    stripe: { ok: stripe.ok, consecutiveFailures: stripeFailures },
    webhooks: {
      failedInWindow: failedWebhooks,
      deliveries: deliveries && {
        badSignatures: deliveries.bad_signature,
        accepted: deliveries.accepted,
        rejected: deliveries.rejected,
        windowMinutes: signatureThresholds.windowMinutes,
      },
    },
    api: api ?? { requests: 0, errors: 0, p95Ms: null },
    queueBacklog: backlog,
    refunds,
  };

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

  const apiSummary = snapshot.api;
  const maxQueued = backlog[0];
  const refundPercent = refunds.purchases > 0 ? (refunds.refunded / refunds.purchases) * 100 : 0;
  const rows: Omit<HealthCheckResult, "id">[] = [
    {
      check: "postgres",
      ok: postgres.ok,
      latencyMs: postgres.latencyMs,
      value: postgres.latencyMs,
      detail: postgres.error ?? `SELECT 1 in ${postgres.latencyMs} ms`,
      status: severityOfCheck("postgres", postgres.ok),
      checkedAt: now,
    },
    {
      check: "redis",
      ok: redisProbe.ok,
      latencyMs: redisProbe.latencyMs,
      value: redisProbe.latencyMs,
      detail: redisProbe.error ?? `PING in ${redisProbe.latencyMs} ms`,
      status: redisProbe.ok ? "GREEN" : "RED",
      checkedAt: now,
    },
    {
      check: "ai_provider",
      ok: ai.ok,
      latencyMs: ai.latencyMs,
      value: ai.latencyMs,
      detail: !ai.configured
        ? "No AI provider configured: the deterministic classifier scores every review"
        : ai.ok
          ? `up, answered in ${ai.latencyMs} ms`
          : `down for ${Math.floor(aiStreak)} min: ${ai.error ?? "no answer"}`,
      status: severityOfCheck("ai_provider", ai.ok),
      checkedAt: now,
    },
    {
      check: "stripe",
      ok: stripe.ok,
      latencyMs: stripe.latencyMs,
      value: stripe.latencyMs,
      detail: stripe.ok
        ? `reachable in ${stripe.latencyMs} ms`
        : `unreachable (${stripeFailures} in a row): ${stripe.error}`,
      status: severityOfCheck("stripe", stripe.ok),
      checkedAt: now,
    },
    {
      check: "webhooks",
      ok: true,
      latencyMs: null,
      value: failedWebhooks,
      detail:
        `${failedWebhooks} failed in the last ${webhookThresholds.windowMinutes} min` +
        (deliveries
          ? `; ${deliveries.accepted} accepted, ${deliveries.rejected} refused (${deliveries.bad_signature} bad signature) in the last ${signatureThresholds.windowMinutes} min`
          : ""),
      status: severityOfCheck("webhooks", true),
      checkedAt: now,
    },
    {
      check: "jobs",
      ok: jobAlerts.length === 0,
      latencyMs: null,
      value: jobAlerts.length,
      detail: jobAlerts.length === 0 ? "all jobs healthy" : jobAlerts.map((alert) => alert.title).join("; "),
      status: worst(jobAlerts.map((alert) => alert.severity)),
      checkedAt: now,
    },
    {
      check: "api_error_rate",
      ok: api !== null,
      latencyMs: null,
      value: apiSummary.requests > 0 ? (apiSummary.errors / apiSummary.requests) * 100 : 0,
      detail:
        api === null
          ? "the API's window summary could not be read"
          : `${apiSummary.errors} errors in ${apiSummary.requests} requests (last 5 min)`,
      status: severityOfCheck("api_error_rate", api !== null),
      checkedAt: now,
    },
    {
      check: "api_latency_p95",
      ok: api !== null,
      latencyMs: null,
      value: apiSummary.p95Ms,
      detail:
        apiSummary.p95Ms === null
          ? "no requests in the last 5 min"
          : `p95 ${Math.round(apiSummary.p95Ms)} ms over ${apiSummary.requests} requests`,
      status: severityOfCheck("api_latency_p95", api !== null),
      checkedAt: now,
    },
    {
      check: "queue_backlog",
      ok: true,
      latencyMs: null,
      value: maxQueued?.queued ?? 0,
      detail: maxQueued
        ? backlog
            .slice(0, 5)
            .map((region) => `${region.regionName} ${region.queued}`)
            .join(", ")
        : "no business waiting",
      status: severityOfCheck("queue_backlog", true),
      checkedAt: now,
    },
    {
      check: "refund_rate",
      ok: true,
      latencyMs: null,
      value: Math.round(refundPercent * 10) / 10,
      detail: `${refunds.refunded} of ${refunds.purchases} purchases refunded in ${refundThresholds.windowDays} days`,
      status: severityOfCheck("refund_rate", true),
      checkedAt: now,
    },
  ];
  const results = await db.healthCheckResult.createManyAndReturn({ data: rows });

  // Alerts: firing conditions open or update theirs; a rule's other open alerts have cleared.
  const effects = { events: deps.events };
  for (const condition of conditions) await raiseAlert(db, condition, now, effects);
  const actor = systemActor("health-checks");
  for (const { rule, enabled } of rules) {
    const firing = new Set((firingByRule.get(rule.key) ?? []).map((condition) => condition.fingerprint));
    const open = await db.alert.findMany({
      where: { ruleKey: rule.key, status: { not: "RESOLVED" } },
      select: { fingerprint: true },
    });
    for (const alert of open.filter((candidate) => !firing.has(candidate.fingerprint)))
      await clearAlert(
        db,
        alert.fingerprint,
        enabled ? `Cleared: ${rule.title.toLowerCase()} back within its threshold` : `Rule ${rule.key} was disabled`,
        { ...effects, actor },
      );
  }

  const aiThresholds = effectiveThresholds(aiProviderDownRule, thresholdsOf(aiProviderDownRule.key));
  const failover = await decideAndApplyAiFailover(
    { db, env, events: deps.events },
    {
      configured: ai.configured,
      ok: ai.ok,
      downForMinutes: snapshot.aiProvider.downForMinutes,
      healthyForMinutes: ai.configured && ai.ok ? aiStreak : null,
      thresholds: aiThresholds,
    },
    now,
  );

  const overall = worst(results.map((result) => result.status));
  deps.events?.publish("healthChanged", { overall, checkedAt: now.toISOString() });
  return { overall, results, conditions, failover };
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

/** Each check's latest result and the overall RAG (the worst of them); the overview reuses it. */
export async function latestHealth(db: DbTx, now = new Date()): Promise<HealthOverview> {
  // One round trip for every check's latest row (an index probe each on (check, checkedAt)), not a
  // query per check: the overview reads this on every request.
  const latestRows = await db.$queryRaw<HealthCheckResult[]>`
    SELECT r.* FROM unnest(${[...checkNames]}::text[]) AS wanted(name)
    CROSS JOIN LATERAL (
      SELECT * FROM "HealthCheckResult" h WHERE h."check" = wanted.name ORDER BY h."checkedAt" DESC LIMIT 1
    ) r`;
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
      const bySeverity = severityRank[b.status] - severityRank[a.status];
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
