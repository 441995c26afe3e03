// Alert rules in code (PRODUCT.md §5, the seeds' red/yellow tables, the playbook's thresholds),
// each with thresholds an ADMIN may tune within validated ranges (AlertRuleSetting). A rule is a
// pure function from a health snapshot to the conditions firing now; `evaluateRules` (health.ts)
// turns those into alerts through raiseAlert/clearAlert, which deduplicate, resolve and reopen.
//
// Every threshold is strict, as the product states them: "> 3 failures", "queue > 10",
// "rate > 15 %", "down > 30 min" fire just above the number and never at it; the one exception is a
// lower bound the seeds write as a band ("refund rate 10–15 %" is yellow from 10 %).
import type { Db, DbTx, Severity } from "@steward/db/client";
import { z } from "zod";
import type { Actor } from "./actor.ts";
import { ALERT_RULES, type AlertRuleKey, type AlertRuleMeta, alertRuleKeys } from "./alertRuleKeys.ts";
import type { AlertCondition } from "./alerts.ts";
import { recordAudit } from "./audit.ts";
import { InvalidInputError, NotFoundError } from "./errors.ts";
import { assertOperatorCan } from "./permissions.ts";
import type { CoreDeps } from "./deps.ts";

export type CheckName =
  | "postgres"
  | "redis"
  | "ai_provider"
  | "stripe"
  | "webhooks"
  | "jobs"
  | "api_error_rate"
  | "api_latency_p95"
  | "queue_backlog"
  | "refund_rate"
  | "postgres_query_p95";

export const checkNames: readonly CheckName[] = [
  "postgres",
  "redis",
  "ai_provider",
  "stripe",
  "webhooks",
  "jobs",
  "api_error_rate",
  "api_latency_p95",
  "queue_backlog",
  "refund_rate",
  "postgres_query_p95",
];

/** What the probes and the database said at one moment; everything a rule may look at. */
export interface HealthSnapshot {
  postgres: { ok: boolean; latencyMs: number | null };
  aiProvider: {
    configured: boolean;
    ok: boolean;
    /** Minutes since the first failed probe of the current outage; null while up. */
    downForMinutes: number | null;
    /** Minutes since the first good probe after the last outage (the failover's switch back); null while down. */
    healthyForMinutes?: number | null;
  };
  stripe: { ok: boolean; consecutiveFailures: number };
  webhooks: {
    failedInWindow: number;
    /** Deliveries refused for a signature that does not match, and deliveries accepted (null: Redis unread). */
    deliveries: { badSignatures: number; accepted: number; rejected: number; windowMinutes: number } | null;
  };
  api: { requests: number; errors: number; p95Ms: number | null };
  /** The app's own queries over 5 minutes, every API and worker process (null: Redis unread). */
  database: { queries: number; p95Ms: number | null; processes: number } | null;
  queueBacklog: { regionId: string; regionName: string; queued: number }[];
  refunds: { purchases: number; refunded: number; pattern: RefundPattern };
}

export interface RefundPattern {
  /** Businesses refunded more than once in the window (possible abuse: buy, refund, repeat). */
  repeatRefunders: { businessId: string; businessName: string; refunds: number }[];
  byRegion: { regionName: string; refunds: number }[];
  /** Business age at purchase: 0–7 days, 8–30 days, older. */
  byBusinessAge: { new: number; recent: number; established: number };
}

interface RuleDefinition<Key extends AlertRuleKey, Thresholds extends z.ZodType<Record<string, number>>> {
  key: Key;
  thresholds: Thresholds;
  defaults: z.infer<Thresholds>;
  /** The conditions firing now (none when healthy). */
  evaluate(snapshot: HealthSnapshot, thresholds: z.infer<Thresholds>): AlertCondition[];
}

/** A tunable rule: its evaluation here, its title, severity and check from the key registry. */
function defineRule<Key extends AlertRuleKey, Thresholds extends z.ZodType<Record<string, number>>>(
  rule: RuleDefinition<Key, Thresholds>,
): RuleDefinition<Key, Thresholds> & AlertRuleMeta {
  return { ...ALERT_RULES[rule.key], ...rule };
}

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const percent = () => z.number().gt(0).max(100);

export const aiProviderDownRule = defineRule({
  key: "ai.provider_down",
  thresholds: z.strictObject({ downMinutes: int(1, 1440), healthyMinutesBeforeProposal: int(1, 1440) }),
  defaults: { downMinutes: 30, healthyMinutesBeforeProposal: 30 },
  evaluate({ aiProvider }, { downMinutes }) {
    if (!aiProvider.configured || aiProvider.downForMinutes === null || aiProvider.downForMinutes <= downMinutes)
      return [];
    const minutes = Math.floor(aiProvider.downForMinutes);
    return [
      {
        fingerprint: "ai.provider_down",
        ruleKey: "ai.provider_down",
        severity: "RED",
        title: `AI provider down for ${minutes} min`,
        detail: `Every probe of the AI provider has failed for ${minutes} minutes (threshold ${downMinutes}). Reviews are scored by the deterministic classifier meanwhile.`,
      },
    ];
  },
});

export const stripeUnreachableRule = defineRule({
  key: "stripe.unreachable",
  thresholds: z.strictObject({ consecutiveFailures: int(1, 60) }),
  defaults: { consecutiveFailures: 1 },
  evaluate({ stripe }, { consecutiveFailures }) {
    if (stripe.consecutiveFailures < consecutiveFailures) return [];
    return [
      {
        fingerprint: "stripe.unreachable",
        ruleKey: "stripe.unreachable",
        severity: "RED",
        title: "Stripe is unreachable",
        detail: `Stripe did not answer ${stripe.consecutiveFailures} probe(s) in a row. Payments, refunds and reconciliation wait for it.`,
      },
    ];
  },
});

export const webhookFailuresRule = defineRule({
  key: "stripe.webhook_failures",
  thresholds: z.strictObject({ maxFailures: int(0, 100_000), windowMinutes: int(5, 1440) }),
  defaults: { maxFailures: 3, windowMinutes: 60 },
  evaluate({ webhooks }, { maxFailures, windowMinutes }) {
    if (webhooks.failedInWindow <= maxFailures) return [];
    return [
      {
        fingerprint: "stripe.webhook_failures",
        ruleKey: "stripe.webhook_failures",
        severity: "RED",
        title: `${webhooks.failedInWindow} Stripe webhooks failed in ${windowMinutes} min`,
        detail: `${webhooks.failedInWindow} webhook events failed in the last ${windowMinutes} minutes (threshold ${maxFailures}): payments may be stuck. Check the payment audit and reconcile.`,
      },
    ];
  },
});

export const webhookSignaturesRule = defineRule({
  key: "stripe.webhook_signatures",
  thresholds: z.strictObject({ minRefused: int(1, 100_000), windowMinutes: int(5, 60) }),
  defaults: { minRefused: 3, windowMinutes: 10 },
  evaluate({ webhooks }, { minRefused, windowMinutes }) {
    const deliveries = webhooks.deliveries;
    if (!deliveries || deliveries.badSignatures < minRefused || deliveries.accepted > 0) return [];
    return [
      {
        fingerprint: "stripe.webhook_signatures",
        ruleKey: "stripe.webhook_signatures",
        severity: "RED",
        title: `${deliveries.badSignatures} Stripe webhooks refused for their signature, none accepted`,
        detail: `${deliveries.badSignatures} deliveries in the last ${windowMinutes} minutes carried a Stripe signature that does not match, and none was accepted (threshold ${minRefused}). Check STRIPE_WEBHOOK_SECRET against the endpoint's signing secret in Stripe; Stripe keeps retrying the events meanwhile.`,
      },
    ];
  },
});

export const queueBacklogRule = defineRule({
  key: "queue.backlog",
  thresholds: z.strictObject({ maxQueued: int(1, 100_000) }),
  defaults: { maxQueued: 10 },
  evaluate({ queueBacklog }, { maxQueued }) {
    return queueBacklog
      .filter((region) => region.queued > maxQueued)
      .map((region) => ({
        fingerprint: `queue.backlog:${region.regionId}`,
        ruleKey: "queue.backlog",
        severity: "YELLOW" as const,
        title: `${region.queued} waiting for a featured slot in ${region.regionName}`,
        detail: `${region.queued} businesses are queued in ${region.regionName} (threshold ${maxQueued}). Normal variation; consider more slots if it persists.`,
        labels: { regionId: region.regionId, region: region.regionName },
        // One cause, many regions: one notification lists them (notifications/grouping.ts).
        groupKey: "queue.backlog",
      }));
  },
});

const refundRateThresholds = z
  .strictObject({
    yellowFromPercent: percent(),
    maxRatePercent: percent(),
    windowDays: int(1, 90),
    minPurchases: int(1, 100_000),
  })
  .refine((thresholds) => thresholds.yellowFromPercent <= thresholds.maxRatePercent, {
    message: "must not be above maxRatePercent",
    path: ["yellowFromPercent"],
  });
export type RefundRateThresholds = z.infer<typeof refundRateThresholds>;

export const refundRateRule = defineRule({
  key: "refunds.rate_high",
  thresholds: refundRateThresholds,
  defaults: { yellowFromPercent: 10, maxRatePercent: 15, windowDays: 7, minPurchases: 5 },
  evaluate({ refunds }, thresholds) {
    const { yellowFromPercent, maxRatePercent, windowDays } = thresholds;
    const severity = refundRateSeverity(refunds, thresholds);
    if (severity === null) return [];
    const ratePercent = (refunds.refunded / refunds.purchases) * 100;
    return [
      {
        fingerprint: "refunds.rate_high",
        ruleKey: "refunds.rate_high",
        severity,
        title: `Refund rate ${ratePercent.toFixed(1)} % over ${windowDays} days`,
        detail: `${refunds.refunded} of ${refunds.purchases} purchases refunded (yellow from ${yellowFromPercent} %, red above ${maxRatePercent} %).\n${describeRefundPattern(refunds.pattern)}`,
        // Who to look at: the alert's page offers to flag each of them (repeatRefundersOf reads it back).
        labels: { repeatRefunders: repeatRefundersLabel(refunds.pattern) },
      },
    ];
  },
});

/**
 * The refund rate's severity, the one place its band is applied (the alert rule, the metrics card
 * and the weekly checkup all ask here). The seed's band is "10–15 %": yellow includes its lower
 * bound, red is strictly above the upper; fewer purchases than `minPurchases` say nothing (null).
 */
export function refundRateSeverity(
  refunds: { purchases: number; refunded: number },
  { yellowFromPercent, maxRatePercent, minPurchases }: RefundRateThresholds,
): Severity | null {
  if (refunds.purchases === 0 || refunds.purchases < minPurchases) return null;
  const ratePercent = (refunds.refunded / refunds.purchases) * 100;
  return ratePercent > maxRatePercent ? "RED" : ratePercent >= yellowFromPercent ? "YELLOW" : null;
}

/** The most repeated refunders the refund-rate alert names, as a label: "businessId:refunds,…". */
export const MAX_REPEAT_REFUNDERS = 10;

function repeatRefundersLabel(pattern: RefundPattern): string {
  return pattern.repeatRefunders
    .slice(0, MAX_REPEAT_REFUNDERS)
    .map((business) => `${business.businessId}:${business.refunds}`)
    .join(",");
}

/** The businesses a refund-rate alert named as refunded more than once, most refunds first. */
export function repeatRefundersOf(labels: unknown): { businessId: string; refunds: number }[] {
  if (labels === null || typeof labels !== "object" || Array.isArray(labels)) return [];
  const value = (labels as Record<string, unknown>)["repeatRefunders"];
  if (typeof value !== "string" || value === "") return [];
  return value.split(",").flatMap((entry) => {
    const [businessId = "", count = ""] = entry.split(":");
    const refunds = Number(count);
    return businessId !== "" && Number.isInteger(refunds) ? [{ businessId, refunds }] : [];
  });
}

export function describeRefundPattern(pattern: RefundPattern): string {
  const repeat =
    pattern.repeatRefunders.length === 0
      ? "no business refunded more than once"
      : pattern.repeatRefunders.map((b) => `${b.businessName} ×${b.refunds}`).join(", ") + " (possible abuse: review)";
  const regions = pattern.byRegion.map((r) => `${r.regionName} ${r.refunds}`).join(", ") || "none";
  const { new: fresh, recent, established } = pattern.byBusinessAge;
  return [
    `Repeat refunders: ${repeat}.`,
    `By region: ${regions}.`,
    `By business age: ${fresh} new (0–7 days), ${recent} 8–30 days, ${established} older.`,
  ].join("\n");
}

export const apiErrorRateRule = defineRule({
  key: "api.error_rate",
  thresholds: z.strictObject({ maxErrorPercent: percent(), minRequests: int(1, 1_000_000) }),
  defaults: { maxErrorPercent: 1, minRequests: 20 },
  evaluate({ api }, { maxErrorPercent, minRequests }) {
    if (api.requests < minRequests) return [];
    const errorPercent = (api.errors / api.requests) * 100;
    if (errorPercent <= maxErrorPercent) return [];
    return [
      {
        fingerprint: "api.error_rate",
        ruleKey: "api.error_rate",
        severity: "RED",
        title: `API error rate ${errorPercent.toFixed(1)} % for 5 min`,
        detail: `${api.errors} of ${api.requests} requests failed in the last 5 minutes (threshold ${maxErrorPercent} %).`,
      },
    ];
  },
});

export const apiLatencyRule = defineRule({
  key: "api.latency_p95",
  thresholds: z.strictObject({ maxP95Ms: int(10, 60_000), minRequests: int(1, 1_000_000) }),
  defaults: { maxP95Ms: 1000, minRequests: 20 },
  evaluate({ api }, { maxP95Ms, minRequests }) {
    if (api.requests < minRequests || api.p95Ms === null || api.p95Ms <= maxP95Ms) return [];
    return [
      {
        fingerprint: "api.latency_p95",
        ruleKey: "api.latency_p95",
        severity: "YELLOW",
        title: `API p95 ${Math.round(api.p95Ms)} ms for 5 min`,
        detail: `p95 over ${api.requests} requests in the last 5 minutes is ${Math.round(api.p95Ms)} ms (threshold ${maxP95Ms} ms).`,
      },
    ];
  },
});

export const postgresLatencyRule = defineRule({
  key: "postgres.latency",
  thresholds: z.strictObject({ maxLatencyMs: int(1, 60_000) }),
  defaults: { maxLatencyMs: 500 },
  evaluate({ postgres }, { maxLatencyMs }) {
    if (postgres.ok && postgres.latencyMs !== null && postgres.latencyMs <= maxLatencyMs) return [];
    return [
      {
        fingerprint: "postgres.latency",
        ruleKey: "postgres.latency",
        severity: "YELLOW",
        title: postgres.ok ? `PostgreSQL answered in ${postgres.latencyMs} ms` : "PostgreSQL probe failed",
        detail: postgres.ok
          ? `A SELECT 1 took ${postgres.latencyMs} ms (threshold ${maxLatencyMs} ms).`
          : "The database did not answer the probe.",
      },
    ];
  },
});

export const databaseLatencyRule = defineRule({
  key: "database.query_p95",
  thresholds: z.strictObject({ maxP95Ms: int(10, 60_000), minQueries: int(1, 1_000_000) }),
  defaults: { maxP95Ms: 500, minQueries: 20 },
  evaluate({ database }, { maxP95Ms, minQueries }) {
    if (!database || database.queries < minQueries || database.p95Ms === null || database.p95Ms <= maxP95Ms) return [];
    const p95 = Math.round(database.p95Ms);
    return [
      {
        fingerprint: "database.query_p95",
        ruleKey: "database.query_p95",
        severity: "RED",
        title: `Database p95 ${p95} ms for 5 min`,
        detail: `The p95 of ${database.queries} queries run by ${database.processes} process(es) in the last 5 minutes is ${p95} ms (threshold ${maxP95Ms} ms). Look for slow queries, locks or a saturated connection pool.`,
      },
    ];
  },
});

/** Rules evaluated by the health-checks job, in display order. */
export const healthRules = [
  aiProviderDownRule,
  stripeUnreachableRule,
  webhookFailuresRule,
  webhookSignaturesRule,
  queueBacklogRule,
  refundRateRule,
  apiErrorRateRule,
  apiLatencyRule,
  postgresLatencyRule,
  databaseLatencyRule,
] as const;

export type HealthRule = (typeof healthRules)[number];
export type RuleKey = HealthRule["key"];

/** Conditions raised elsewhere (every other registered key), listed so the rules page shows the whole picture. */
export const externalRules = alertRuleKeys
  .filter((key) => !healthRules.some((rule) => rule.key === key))
  .map((key) => ({ key, ...ALERT_RULES[key] }));

function findRule(key: string): HealthRule | undefined {
  return healthRules.find((rule) => rule.key === key);
}

/** A threshold's allowed range, so the dashboard can check input before sending it. */
export interface ThresholdBounds {
  min: number | null;
  /** The minimum itself is not allowed ("more than 0"). */
  minExclusive: boolean;
  max: number | null;
  integer: boolean;
}

/** Read from the rule's zod schema: one source for the server's and the dashboard's checks. */
export function thresholdBounds(rule: HealthRule): Record<string, ThresholdBounds> {
  const schema = z.toJSONSchema(rule.thresholds) as {
    properties?: Record<string, { type?: string; minimum?: number; exclusiveMinimum?: number; maximum?: number }>;
  };
  return Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, property]) => [
      name,
      {
        min: property.minimum ?? property.exclusiveMinimum ?? null,
        minExclusive: property.minimum === undefined && property.exclusiveMinimum !== undefined,
        max: property.maximum ?? null,
        integer: property.type === "integer",
      },
    ]),
  );
}

export interface RuleState {
  key: string;
  title: string;
  description: string;
  severity: Severity;
  check: CheckName;
  /** False for conditions raised elsewhere: nothing to tune here. */
  tunable: boolean;
  enabled: boolean;
  thresholds: Record<string, number>;
  defaults: Record<string, number>;
  bounds: Record<string, ThresholdBounds>;
  updatedAt: Date | null;
}

/** The thresholds in force: a stored setting that no longer validates falls back to the defaults. */
export function effectiveThresholds<Rule extends HealthRule>(rule: Rule, stored: unknown): z.infer<Rule["thresholds"]> {
  const parsed = rule.thresholds.safeParse({ ...rule.defaults, ...(isRecord(stored) ? stored : {}) });
  return (parsed.success ? parsed.data : rule.defaults) as z.infer<Rule["thresholds"]>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function listRules(db: Db): Promise<RuleState[]> {
  const settings = new Map((await db.alertRuleSetting.findMany()).map((row) => [row.ruleKey, row]));
  const tunable = healthRules.map((rule): RuleState => {
    const setting = settings.get(rule.key);
    return {
      key: rule.key,
      title: rule.title,
      description: rule.description,
      severity: rule.severity,
      check: rule.check,
      tunable: true,
      enabled: setting?.enabled ?? true,
      thresholds: effectiveThresholds(rule, setting?.thresholds),
      defaults: rule.defaults,
      bounds: thresholdBounds(rule),
      updatedAt: setting?.updatedAt ?? null,
    };
  });
  const external = externalRules.map((rule): RuleState => ({
    ...rule,
    tunable: false,
    enabled: true,
    thresholds: {},
    defaults: {},
    bounds: {},
    updatedAt: null,
  }));
  return [...tunable, ...external];
}

export interface RuleUpdate {
  ruleKey: string;
  enabled?: boolean | null;
  /** Only the thresholds to change; the others keep their value. */
  thresholds?: Record<string, unknown> | null;
}

/** ADMIN: tune a rule. Unknown rules, unknown threshold names and out-of-range values change nothing. */
export async function updateAlertRule(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  update: RuleUpdate,
): Promise<RuleState> {
  const { db } = deps;
  assertOperatorCan(actor, "administer");
  const rule = findRule(update.ruleKey);
  if (!rule) {
    if (externalRules.some((external) => external.key === update.ruleKey))
      throw new InvalidInputError(`${update.ruleKey} is raised elsewhere and has no thresholds to tune`, "ruleKey");
    throw new NotFoundError("AlertRule", update.ruleKey);
  }
  await db.$transaction(async (tx) => {
    const existing = await tx.alertRuleSetting.findUnique({ where: { ruleKey: rule.key } });
    const before = effectiveThresholds(rule, existing?.thresholds);
    const parsed = rule.thresholds.safeParse({ ...before, ...(update.thresholds ?? {}) });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") || "thresholds";
      const message =
        issue?.code === "unrecognized_keys"
          ? `${rule.key} has no threshold ${issue.keys.join(", ")}; it has ${Object.keys(rule.defaults).join(", ")}`
          : `${field}: ${issue?.message ?? "invalid"}`;
      throw new InvalidInputError(message, `thresholds.${field}`);
    }
    const enabled = update.enabled ?? existing?.enabled ?? true;
    await tx.alertRuleSetting.upsert({
      where: { ruleKey: rule.key },
      create: { ruleKey: rule.key, enabled, thresholds: parsed.data, updatedById: actorIdOf(actor) },
      update: { enabled, thresholds: parsed.data, updatedById: actorIdOf(actor) },
    });
    await recordAudit(tx, actor, {
      action: "alertRule.update",
      targetType: "AlertRule",
      targetId: rule.key,
      before: { enabled: existing?.enabled ?? true, thresholds: before },
      after: { enabled, thresholds: parsed.data },
    });
  });
  const state = (await listRules(db)).find((candidate) => candidate.key === rule.key);
  if (!state) throw new NotFoundError("AlertRule", rule.key);
  return state;
}

function actorIdOf(actor: Actor): string | null {
  return actor.kind === "OPERATOR" ? actor.id : null;
}

/** Enabled rules with their thresholds in force, for the evaluation. */
export async function activeRules(
  db: DbTx,
): Promise<{ rule: HealthRule; enabled: boolean; thresholds: Record<string, number> }[]> {
  const settings = new Map((await db.alertRuleSetting.findMany()).map((row) => [row.ruleKey, row]));
  return healthRules.map((rule) => ({
    rule,
    enabled: settings.get(rule.key)?.enabled ?? true,
    thresholds: effectiveThresholds(rule, settings.get(rule.key)?.thresholds),
  }));
}

/** Runs one rule against a snapshot (typed thresholds per rule, checked again here). */
export function evaluateRule(rule: HealthRule, snapshot: HealthSnapshot, thresholds: unknown): AlertCondition[] {
  const typed = effectiveThresholds(rule, thresholds);
  // Each rule's evaluate takes its own thresholds type; effectiveThresholds produced exactly that.
  return (rule.evaluate as (s: HealthSnapshot, t: typeof typed) => AlertCondition[])(snapshot, typed);
}
