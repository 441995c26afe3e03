// The weekly checkup ("Sunday checkup", operations-self-maintenance.md §2, PRODUCT.md §6): every
// Sunday 02:00 UTC and on demand. Each check gives one finding (green when all is well, so the
// report shows what was checked); the report's overall is the worst finding. It is stored, audited
// and notified through enqueueNotification in the same transaction (the channels route it: green
// → Slack status post, yellow → email, red → PagerDuty + ticket webhook + Slack).
//
// The revenue path is probed without moving money: Stripe is asked for one charge (reachable,
// key valid), and the refund path is exercised by refunding a charge that cannot exist; Stripe's
// typed `resource_missing` answer proves the refund endpoint works and that nothing was refunded.
import type { CheckupReport, Db, JobTrigger, Prisma, Severity } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { clock } from "./clock.ts";
import { askProvider } from "./moderation/aiProvider.ts";
import type { CoreDeps } from "./deps.ts";
import { type Metrics, type MetricsDeps, metricsSettings, rollupMetrics } from "./metrics.ts";
import { type OperatingMetrics, refreshOperatingMetrics } from "./operatingMetrics.ts";
import { enqueueNotification } from "./notifications.ts";
import { assertOperatorCan } from "./permissions.ts";
import { checkPlacementConsistency } from "./placements.ts";
import { type PaymentsGateway, paymentsErrorCode } from "./ports/payments.ts";
import { worst } from "./severity.ts";

export type FindingCategory = "REVENUE_PATH" | "DATA_INTEGRITY" | "KPI" | "TABLE_GROWTH" | "SECURITY";

export interface CheckupFinding {
  key: string;
  category: FindingCategory;
  severity: Severity;
  title: string;
  detail: string;
  /** Figures behind the finding (table row counts are compared with the next week's). */
  data?: Record<string, number | string | null>;
}

/** A charge id Stripe can never have issued: refunding it must fail with resource_missing. */
export const PROBE_CHARGE_ID = "ch_steward_checkup_probe_never_exists";
/** Tables whose growth is watched week over week. */
export const WATCHED_TABLES = [
  "Business",
  "Payment",
  "Placement",
  "Review",
  "SearchEvent",
  "AuditEvent",
  "JobRun",
  "OutboxMessage",
] as const;
/** A table growing more than this in a week (and by more than GROWTH_MIN_ROWS) is worth a look. */
export const GROWTH_RATIO = 0.5;
export const GROWTH_MIN_ROWS = 1000;
/** Failed logins in 24 h: a spike is at least this many and 3× the daily average of the week before. */
export const FAILED_LOGIN_SPIKE_MIN = 20;
/** One token's calls in 24 h above 5× its daily average of the week before (at least this baseline). */
export const TOKEN_RATE_FACTOR = 5;
export const TOKEN_BASELINE_MIN = 20;
/** A reconciliation older than this is overdue (it should run daily). */
const RECONCILIATION_MAX_AGE_MS = 8 * 86_400_000;

export interface CheckupDeps extends MetricsDeps {
  stripe: PaymentsGateway;
  ai: { mode: "provider" | "deterministic"; providerUrl?: string | undefined; timeoutMs: number };
}

/** The checkup's dependencies from the process's CoreDeps (the worker's job, the API's run-now). */
export function checkupDeps(deps: Pick<CoreDeps, "db" | "events" | "env" | "stripe">): CheckupDeps {
  const { env } = deps;
  return {
    db: deps.db,
    events: deps.events,
    settings: metricsSettings(env),
    stripe: deps.stripe,
    ai: { mode: env.AI_MODE, providerUrl: env.AI_PROVIDER_URL, timeoutMs: env.AI_TIMEOUT_MS },
  };
}

export function worstSeverity(findings: readonly Pick<CheckupFinding, "severity">[]): Severity {
  return worst(findings.map((finding) => finding.severity));
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 300);

// ───────────────────────────── Revenue path ─────────────────────────────

async function probeStripe(stripe: PaymentsGateway): Promise<CheckupFinding> {
  const started = Date.now();
  try {
    await stripe.charges.list({ limit: 1 });
    return {
      key: "stripe_api",
      category: "REVENUE_PATH",
      severity: "GREEN",
      title: "Stripe reachable",
      detail: `Listed charges in ${Date.now() - started} ms`,
    };
  } catch (error) {
    return {
      key: "stripe_api",
      category: "REVENUE_PATH",
      severity: "RED",
      title: "Stripe unreachable",
      detail: `Listing charges failed: ${message(error)}`,
    };
  }
}

async function probeRefundPath(stripe: PaymentsGateway, runKey: string): Promise<CheckupFinding> {
  const finding = { key: "refund_path", category: "REVENUE_PATH" as const };
  try {
    const refund = await stripe.refunds.create(
      { charge: PROBE_CHARGE_ID, amount: 1, metadata: { purpose: "steward weekly checkup probe" } },
      { idempotencyKey: `checkup-probe-${runKey}` },
    );
    return {
      ...finding,
      severity: "RED",
      title: "Refund probe was accepted",
      detail: `Stripe refunded a charge that should not exist (${refund.id}): check the Stripe account`,
    };
  } catch (error) {
    if (paymentsErrorCode(error) === "resource_missing")
      return {
        ...finding,
        severity: "GREEN",
        title: "Refund path answers",
        detail: "A refund of a non-existent charge was refused with resource_missing; no money moved",
      };
    return {
      ...finding,
      severity: "RED",
      title: "Refund path failing",
      detail: `The refund probe failed unexpectedly: ${message(error)}`,
    };
  }
}

async function probeAiProvider(ai: CheckupDeps["ai"]): Promise<CheckupFinding> {
  const finding = { key: "ai_provider", category: "REVENUE_PATH" as const };
  if (!ai.providerUrl) {
    return ai.mode === "provider"
      ? {
          ...finding,
          severity: "RED",
          title: "AI provider not configured",
          detail: "AI_MODE is provider but AI_PROVIDER_URL is unset",
        }
      : { ...finding, severity: "GREEN", title: "AI provider not used", detail: "AI_MODE is deterministic" };
  }
  const started = Date.now();
  try {
    await askProvider(ai.providerUrl, { body: "Weekly checkup probe: a friendly trainer.", rating: 5 }, ai.timeoutMs);
    return {
      ...finding,
      severity: "GREEN",
      title: "AI provider reachable",
      detail: `Scored a probe review in ${Date.now() - started} ms`,
    };
  } catch (error) {
    // Only red when scoring depends on it; in deterministic mode it is a heads-up.
    return {
      ...finding,
      severity: ai.mode === "provider" ? "RED" : "YELLOW",
      title: "AI provider unreachable",
      detail: `${message(error)}${ai.mode === "provider" ? "; reviews fall back to the deterministic classifier" : ""}`,
    };
  }
}

// ───────────────────────────── Data integrity ─────────────────────────────

async function paymentsWithoutPlacements(db: Db): Promise<CheckupFinding> {
  const rows = await db.$queryRaw<{ count: number; sample: string | null }[]>`
    SELECT count(*)::int AS count, min(p."stripeChargeId") AS sample FROM "Payment" p
     WHERE p.status IN ('SUCCEEDED', 'PARTIALLY_REFUNDED')
       AND NOT EXISTS (SELECT 1 FROM "Placement" pl WHERE pl."paymentId" = p.id)`;
  const { count, sample } = rows[0] ?? { count: 0, sample: null };
  return {
    key: "payments_without_placements",
    category: "DATA_INTEGRITY",
    severity: count > 0 ? "RED" : "GREEN",
    title: count > 0 ? `${count} paid payment(s) without a placement` : "Every paid payment has its placement",
    detail: count > 0 ? `Paid but not featured or queued, e.g. ${sample}` : "No payment is missing its placement",
    data: { count },
  };
}

async function placementsWithoutPayments(db: Db): Promise<CheckupFinding> {
  const rows = await db.$queryRaw<{ count: number; sample: string | null }[]>`
    SELECT count(*)::int AS count, min(pl.id::text) AS sample FROM "Placement" pl
      LEFT JOIN "Payment" p ON p.id = pl."paymentId"
     WHERE pl.status IN ('ACTIVE', 'QUEUED')
       AND (p.id IS NULL OR p.status NOT IN ('SUCCEEDED', 'PARTIALLY_REFUNDED'))`;
  const { count, sample } = rows[0] ?? { count: 0, sample: null };
  return {
    key: "placements_without_payments",
    category: "DATA_INTEGRITY",
    severity: count > 0 ? "RED" : "GREEN",
    title: count > 0 ? `${count} placement(s) without a paid payment` : "Every placement is paid for",
    detail:
      count > 0
        ? `Featured or queued with no payment, or a failed/refunded one, e.g. placement ${sample}`
        : "No active or queued placement lacks a paid payment",
    data: { count },
  };
}

async function orphanedRecords(db: Db): Promise<CheckupFinding> {
  const rows = await db.$queryRaw<{ refunds: number; placements: number; discrepancies: number }[]>`
    SELECT
      (SELECT count(*) FROM "RefundRequest" r JOIN "Payment" p ON p.id = r."paymentId"
        WHERE r."businessId" <> p."businessId")::int AS refunds,
      (SELECT count(*) FROM "Placement" pl JOIN "Payment" p ON p.id = pl."paymentId"
        WHERE pl."businessId" <> p."businessId")::int AS placements,
      (SELECT count(*) FROM "Discrepancy" d
        WHERE d."paymentId" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "Payment" p WHERE p.id = d."paymentId"))::int AS discrepancies`;
  const row = rows[0] ?? { refunds: 0, placements: 0, discrepancies: 0 };
  const parts = [
    row.refunds > 0 ? `${row.refunds} refund request(s) for another business's payment` : null,
    row.placements > 0 ? `${row.placements} placement(s) for another business's payment` : null,
    row.discrepancies > 0 ? `${row.discrepancies} discrepancy(ies) naming a payment that does not exist` : null,
  ].filter((part): part is string => part !== null);
  return {
    key: "orphaned_records",
    category: "DATA_INTEGRITY",
    severity: parts.length > 0 ? "YELLOW" : "GREEN",
    title: parts.length > 0 ? "Orphaned or mismatched records" : "No orphaned records",
    detail: parts.length > 0 ? parts.join("; ") : "Refunds, placements and discrepancies all point at the right rows",
    data: { ...row },
  };
}

async function queueConsistency(db: Db, now: Date): Promise<CheckupFinding> {
  const broken = await checkPlacementConsistency(db);
  const stalled = await db.$queryRaw<{ name: string; free: number; queued: number }[]>`
    SELECT r.name, (r."featuredSlots" - count(a.id))::int AS free,
           (SELECT count(*) FROM "Placement" q WHERE q."regionId" = r.id AND q.status = 'QUEUED')::int AS queued
      FROM "Region" r LEFT JOIN "Placement" a ON a."regionId" = r.id AND a.status = 'ACTIVE'
     GROUP BY r.id
    HAVING count(a.id) < r."featuredSlots"
       AND EXISTS (SELECT 1 FROM "Placement" q WHERE q."regionId" = r.id AND q.status = 'QUEUED')`;
  const overdue = await db.placement.count({
    where: { status: "ACTIVE", featuredUntil: { lt: new Date(now.getTime() - 86_400_000) } },
  });
  const problems = [
    ...broken.map((finding) => finding.detail),
    ...stalled.map((region) => `${region.name}: ${region.free} free slot(s) while ${region.queued} wait`),
    ...(overdue > 0 ? [`${overdue} placement(s) still active more than a day past their end`] : []),
  ];
  return {
    key: "queue_consistency",
    category: "DATA_INTEGRITY",
    severity: broken.length > 0 ? "RED" : problems.length > 0 ? "YELLOW" : "GREEN",
    title: problems.length > 0 ? "Queue order or slots inconsistent" : "Queues and slots consistent",
    detail: problems.length > 0 ? problems.join("; ") : "No region over its slots, FIFO order kept, expiries on time",
    data: { broken: broken.length, stalledRegions: stalled.length, overdue },
  };
}

async function reconciliationMismatches(db: Db, now: Date): Promise<CheckupFinding> {
  const finding = { key: "reconciliation", category: "DATA_INTEGRITY" as const };
  const last = await db.reconciliationRun.findFirst({ orderBy: [{ startedAt: "desc" }, { id: "desc" }] });
  if (!last) return { ...finding, severity: "YELLOW", title: "Never reconciled", detail: "No reconciliation run yet" };
  if (last.status === "FAILED")
    return {
      ...finding,
      severity: "YELLOW",
      title: "Last reconciliation failed",
      detail: last.error ?? "The last run did not complete",
    };
  const lastCompleted =
    last.status === "COMPLETED"
      ? last
      : await db.reconciliationRun.findFirst({ where: { status: "COMPLETED" }, orderBy: { startedAt: "desc" } });
  if (!lastCompleted)
    return { ...finding, severity: "YELLOW", title: "No completed reconciliation", detail: "A run is in progress" };
  const open = await db.discrepancy.count({ where: { runId: lastCompleted.id, resolution: null } });
  const data = { runId: lastCompleted.id, discrepancies: lastCompleted.discrepancyCount, open };
  if (open > 0)
    return {
      ...finding,
      severity: "RED",
      title: `${open} unresolved DB vs Stripe mismatch(es)`,
      detail: `The reconciliation of ${lastCompleted.startedAt.toISOString()} found ${lastCompleted.discrepancyCount} discrepancy(ies); ${open} still open`,
      data,
    };
  if (now.getTime() - lastCompleted.startedAt.getTime() > RECONCILIATION_MAX_AGE_MS)
    return {
      ...finding,
      severity: "YELLOW",
      title: "Reconciliation overdue",
      detail: `Last completed ${lastCompleted.startedAt.toISOString()}`,
      data,
    };
  return {
    ...finding,
    severity: "GREEN",
    title: "DB and Stripe agree",
    detail: `Last reconciliation (${lastCompleted.chargesCompared} charges) has no open discrepancy`,
    data,
  };
}

// ───────────────────────────── KPIs and growth ─────────────────────────────

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;

async function kpiFindings(deps: CheckupDeps): Promise<CheckupFinding[]> {
  const { metrics } = await rollupMetrics(deps);
  const { metrics: operating } = await refreshOperatingMetrics(deps.db, deps.settings, deps.now?.() ?? new Date(), 0);
  const refund = metrics.refundRate;
  const adoption = metrics.featuredAdoption;
  return [
    {
      key: "refund_rate",
      category: "KPI",
      // The alert rule's band and thresholds (refundRateSeverity), as configured: no copy here.
      severity: refund.severity,
      title: `Refund rate ${percent(refund.rate)} over ${refund.windowDays} days`,
      detail:
        `${refund.refunded} of ${refund.payments} payments refunded; yellow from ${percent(refund.yellowFrom)}, red above ${percent(refund.threshold)}` +
        (refund.payments < refund.minPurchases ? ` (too few to judge: fewer than ${refund.minPurchases})` : ""),
      data: { rate: refund.rate, refunded: refund.refunded, payments: refund.payments },
    },
    {
      key: "featured_adoption",
      category: "KPI",
      severity: adoption.rate < adoption.target ? "YELLOW" : "GREEN",
      title: `Featured adoption ${percent(adoption.rate)} (target ${percent(adoption.target)})`,
      detail: `${adoption.featuredBusinesses} of ${adoption.businesses} businesses featured`,
      data: { rate: adoption.rate, target: adoption.target },
    },
    await sinceLastWeek(deps.db, weeklyFigures(metrics, operating)),
  ];
}

// ───────────────────────────── What changed since last week ─────────────────────────────

/** The figures compared week over week, with how each reads. */
const WEEKLY_FIGURES = {
  refundRatePercent: { label: "Refund rate", unit: " %" },
  featuredAdoptionPercent: { label: "Featured adoption", unit: " %" },
  queued: { label: "Businesses queued", unit: "" },
  averageQueueWaitHours: { label: "Average queue wait", unit: " h" },
  promotionsPerWeek: { label: "Queue promotions per week", unit: "" },
  paymentFailurePercent: { label: "Payment failure rate", unit: " %" },
  aiUptimePercent: { label: "AI uptime", unit: " %" },
  searchesPerDay: { label: "Searches per day", unit: "" },
} as const;
type WeeklyFigures = Record<keyof typeof WEEKLY_FIGURES, number | null>;

const oneDecimal = (value: number) => Math.round(value * 10) / 10;

export function weeklyFigures(metrics: Metrics, operating: OperatingMetrics): WeeklyFigures {
  return {
    refundRatePercent: oneDecimal(metrics.refundRate.rate * 100),
    featuredAdoptionPercent: oneDecimal(metrics.featuredAdoption.rate * 100),
    queued: metrics.queueBacklog.total,
    averageQueueWaitHours: operating.queueWait.averageHours,
    promotionsPerWeek: operating.queueVelocity.lastFourWeeksPerWeek,
    paymentFailurePercent:
      operating.paymentFailureRate.rate === null ? null : oneDecimal(operating.paymentFailureRate.rate * 100),
    aiUptimePercent: operating.aiUptime.percent,
    searchesPerDay: oneDecimal(metrics.searchVolume.averagePerDay),
  };
}

/** "What changed since last week": this week's figures against the last report's (informational). */
async function sinceLastWeek(db: Db, figures: WeeklyFigures): Promise<CheckupFinding> {
  const previousReport = await db.checkupReport.findFirst({
    orderBy: { createdAt: "desc" },
    select: { findings: true },
  });
  const before = findingData(previousReport?.findings, "since_last_week");
  const show = (key: keyof WeeklyFigures, value: number | null | undefined) =>
    value === null || value === undefined ? "–" : `${value}${WEEKLY_FIGURES[key].unit}`;
  const keys = Object.keys(WEEKLY_FIGURES) as (keyof WeeklyFigures)[];
  const changed = before ? keys.filter((key) => (before[key] ?? null) !== figures[key]) : [];
  return {
    key: "since_last_week",
    category: "KPI",
    severity: "GREEN",
    title: !before
      ? "Weekly figures recorded"
      : changed.length === 0
        ? "Nothing changed since last week"
        : `Since last week: ${changed.length} figure(s) changed`,
    detail: !before
      ? `First checkup: ${keys.map((key) => `${WEEKLY_FIGURES[key].label} ${show(key, figures[key])}`).join("; ")}`
      : keys
          .map(
            (key) =>
              `${WEEKLY_FIGURES[key].label} ${show(key, before[key])}` +
              (changed.includes(key) ? ` → ${show(key, figures[key])}` : " (unchanged)"),
          )
          .join("; "),
    data: figures,
  };
}

async function tableGrowth(db: Db): Promise<CheckupFinding> {
  const counts: Record<string, number> = {};
  for (const table of WATCHED_TABLES) {
    // Table names come from the constant list above, never from input.
    const rows = await db.$queryRawUnsafe<{ count: bigint }[]>(`SELECT count(*) AS count FROM "${table}"`);
    counts[table] = Number(rows[0]?.count ?? 0);
  }
  const previous = await db.checkupReport.findFirst({ orderBy: { createdAt: "desc" }, select: { findings: true } });
  const before = previousCounts(previous?.findings);
  const grown = WATCHED_TABLES.filter((table) => {
    const was = before?.[table];
    const now = counts[table] ?? 0;
    return was !== undefined && now - was > GROWTH_MIN_ROWS && now - was > was * GROWTH_RATIO;
  });
  return {
    key: "table_growth",
    category: "TABLE_GROWTH",
    severity: grown.length > 0 ? "YELLOW" : "GREEN",
    title:
      grown.length > 0 ? `Fast growth: ${grown.join(", ")}` : before ? "Table growth normal" : "Table sizes recorded",
    detail:
      grown.length > 0
        ? grown.map((table) => `${table} ${before?.[table]} → ${counts[table]}`).join("; ")
        : before
          ? `No watched table grew more than ${GROWTH_RATIO * 100} % since the last checkup`
          : "First checkup: these sizes are the baseline for next week",
    data: counts,
  };
}

function previousCounts(findings: Prisma.JsonValue | undefined): Record<string, number> | null {
  return findingData(findings, "table_growth");
}

/** The numeric data of a stored report's finding (null: no such finding). */
function findingData(findings: Prisma.JsonValue | undefined, key: string): Record<string, number> | null {
  if (!Array.isArray(findings)) return null;
  const found = findings.find(
    (finding) => typeof finding === "object" && finding !== null && !Array.isArray(finding) && finding.key === key,
  );
  if (!found || typeof found !== "object" || Array.isArray(found)) return null;
  const data = found.data;
  if (!data || typeof data !== "object" || Array.isArray(data)) return null;
  return Object.fromEntries(
    Object.entries(data).filter((entry): entry is [string, number] => typeof entry[1] === "number"),
  );
}

// ───────────────────────────── Security ─────────────────────────────

async function failedLogins(db: Db, now: Date): Promise<CheckupFinding> {
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const weekBefore = new Date(dayAgo.getTime() - 7 * 86_400_000);
  const [last24h, previousWeek] = await Promise.all([
    db.loginAttempt.count({ where: { succeeded: false, createdAt: { gte: dayAgo, lte: now } } }),
    db.loginAttempt.count({ where: { succeeded: false, createdAt: { gte: weekBefore, lt: dayAgo } } }),
  ]);
  const dailyAverage = previousWeek / 7;
  const spike = last24h >= FAILED_LOGIN_SPIKE_MIN && last24h > 3 * dailyAverage;
  return {
    key: "failed_logins",
    category: "SECURITY",
    severity: spike ? "YELLOW" : "GREEN",
    title: spike ? `Failed-login spike: ${last24h} in 24 h` : "Failed logins normal",
    detail: `${last24h} failed logins in the last 24 h; ${dailyAverage.toFixed(1)} a day the week before`,
    data: { last24h, dailyAverage },
  };
}

async function tokenRates(db: Db, now: Date): Promise<CheckupFinding> {
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const weekBefore = new Date(dayAgo.getTime() - 7 * 86_400_000);
  // Calls we can count per token: its audited actions and the search events it sent.
  const rows = await db.$queryRaw<{ tokenId: string; name: string; recent: number; before: number }[]>`
    WITH calls AS (
      SELECT "actorId"::uuid AS token, "createdAt" AS at FROM "AuditEvent"
       WHERE "actorKind" = 'API_TOKEN' AND "actorId" IS NOT NULL AND "createdAt" >= ${weekBefore}
      UNION ALL
      SELECT "apiTokenId", "occurredAt" FROM "SearchEvent"
       WHERE "apiTokenId" IS NOT NULL AND "occurredAt" >= ${weekBefore})
    SELECT t.id AS "tokenId", t.name,
           count(*) FILTER (WHERE c.at >= ${dayAgo})::int AS recent,
           count(*) FILTER (WHERE c.at < ${dayAgo})::int AS before
      FROM calls c JOIN "ApiToken" t ON t.id = c.token
     GROUP BY t.id, t.name`;
  const hot = rows.filter((row) => row.recent > TOKEN_RATE_FACTOR * Math.max(row.before / 7, TOKEN_BASELINE_MIN));
  return {
    key: "token_rate",
    category: "SECURITY",
    severity: hot.length > 0 ? "YELLOW" : "GREEN",
    title: hot.length > 0 ? `Unusual API token use: ${hot.map((row) => row.name).join(", ")}` : "API token use normal",
    detail:
      hot.length > 0
        ? hot
            .map((row) => `${row.name}: ${row.recent} calls in 24 h vs ${(row.before / 7).toFixed(1)} a day before`)
            .join("; ")
        : `${rows.length} token(s) active, none above ${TOKEN_RATE_FACTOR}× its usual daily rate`,
    data: Object.fromEntries(hot.map((row) => [row.name, row.recent])),
  };
}

// ───────────────────────────── The run ─────────────────────────────

export function summarize(findings: readonly CheckupFinding[]): string {
  const notGreen = findings.filter((finding) => finding.severity !== "GREEN");
  if (notGreen.length === 0) return `All systems green (${findings.length} checks)`;
  const red = notGreen.filter((finding) => finding.severity === "RED");
  const yellow = notGreen.filter((finding) => finding.severity === "YELLOW");
  return [
    red.length > 0 ? `${red.length} red: ${red.map((finding) => finding.title).join("; ")}` : null,
    yellow.length > 0 ? `${yellow.length} yellow: ${yellow.map((finding) => finding.title).join("; ")}` : null,
  ]
    .filter(Boolean)
    .join(" · ");
}

export interface CheckupRun {
  report: CheckupReport;
  findings: CheckupFinding[];
  notificationsEnqueued: number;
}

/** Runs every check, stores one report, audits it and notifies by its overall status. */
export async function runWeeklyCheckup(deps: CheckupDeps, actor: Actor, trigger: JobTrigger): Promise<CheckupRun> {
  assertOperatorCan(actor, "operate");
  const started = clock(deps);
  const runKey = `${started.getTime()}-${Math.random().toString(36).slice(2, 10)}`;
  const { db } = deps;
  const findings = [
    ...(await Promise.all([probeStripe(deps.stripe), probeRefundPath(deps.stripe, runKey), probeAiProvider(deps.ai)])),
    await paymentsWithoutPlacements(db),
    await placementsWithoutPayments(db),
    await orphanedRecords(db),
    await queueConsistency(db, started),
    await reconciliationMismatches(db, started),
    ...(await kpiFindings(deps)),
    await tableGrowth(db),
    await failedLogins(db, started),
    await tokenRates(db, started),
  ];
  const overall = worstSeverity(findings);
  const summary = summarize(findings);
  const durationMs = Date.now() - started.getTime();
  return db.$transaction(async (tx) => {
    const report = await tx.checkupReport.create({
      data: {
        overall,
        summary,
        findings: findings as unknown as Prisma.InputJsonValue,
        trigger,
        durationMs,
        triggeredById: actor.kind === "OPERATOR" ? actor.id : null,
      },
    });
    const notificationsEnqueued = await enqueueNotification(tx, {
      dedupKey: `weekly-checkup:${report.id}`,
      occurrence: `weekly-checkup:${report.id}`,
      severity: overall,
      event: "trigger",
      title: overall === "GREEN" ? "Weekly checkup: all systems green" : `Weekly checkup: ${overall.toLowerCase()}`,
      text: [
        summary,
        ...findings
          .filter((f) => f.severity !== "GREEN" || f.key === "since_last_week")
          .map((f) => `• ${f.title}: ${f.detail}`),
      ].join("\n"),
      source: "steward.weekly-checkup",
      fields: Object.fromEntries(findings.map((finding) => [finding.title, finding.severity])),
    });
    await recordAudit(tx, actor, {
      action: "weekly_checkup.run",
      targetType: "CheckupReport",
      targetId: report.id,
      after: { overall, summary, notificationsEnqueued, trigger },
    });
    return { report, findings, notificationsEnqueued };
  });
}
