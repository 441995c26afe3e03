// Every alert rule key, once, with what the rules page shows about it. `raiseAlert` takes an
// AlertRuleKey, so a raiser cannot invent a spelling the page and the settings do not know; the
// tunable rules (alertRules.ts, evaluated by the health checks) take their title, severity and
// check from here, and every other entry is raised where it happens and listed as not tunable.
import type { Severity } from "@steward/db/client";
import type { CheckName } from "./alertRules.ts";

export interface AlertRuleMeta {
  title: string;
  description: string;
  /** The severity it is raised at (some raise it higher as the condition worsens). */
  severity: Severity;
  /** The health check whose status it belongs to. */
  check: CheckName;
}

export const ALERT_RULES = {
  // Evaluated by the health checks, thresholds tunable (alertRules.ts).
  "ai.provider_down": {
    title: "AI provider down",
    description:
      "The AI scoring provider has failed every probe for longer than downMinutes (red). After that long the system switches AI_MODE to deterministic itself (flag AI_FAILOVER), and once the provider has been healthy for healthyMinutesBeforeProposal it proposes switching back.",
    severity: "RED",
    check: "ai_provider",
  },
  "stripe.unreachable": {
    title: "Stripe unreachable",
    description: "Stripe's API did not answer the last consecutiveFailures probes in a row (the revenue path is down).",
    severity: "RED",
    check: "stripe",
  },
  "stripe.webhook_failures": {
    title: "Stripe webhook failures",
    description: "More than maxFailures Stripe webhook events failed to process within windowMinutes.",
    severity: "RED",
    check: "webhooks",
  },
  "stripe.webhook_signatures": {
    title: "Stripe webhooks refused",
    description:
      "At least minRefused Stripe deliveries with a signature that does not match within windowMinutes, and none accepted: STRIPE_WEBHOOK_SECRET is probably wrong (every event is being lost to retries).",
    severity: "RED",
    check: "webhooks",
  },
  "queue.backlog": {
    title: "Featured queue backlog",
    description: "More than maxQueued businesses wait for a featured slot in one region (one alert per region).",
    severity: "YELLOW",
    check: "queue_backlog",
  },
  "refunds.rate_high": {
    title: "High refund rate",
    description:
      "Of the featured purchases of the last windowDays (at least minPurchases of them, so one refund of two is not a trend): yellow from yellowFromPercent refunded (monitor), red above maxRatePercent (the main seed's 10–15 % band). The alert carries playbook 5's pattern analysis.",
    severity: "RED",
    check: "refund_rate",
  },
  "database.query_p95": {
    title: "Database p95 latency",
    description:
      "The p95 duration of the application's own queries (every API and worker process, 5-minute window) is above maxP95Ms (the automation playbook: database latency p95 > 500 ms for 5 minutes), with at least minQueries queries in the window.",
    severity: "RED",
    check: "postgres_query_p95",
  },
  "api.error_rate": {
    title: "API error rate",
    description:
      "More than maxErrorPercent of the API's requests failed over its 5-minute sliding window (with at least minRequests requests in it).",
    severity: "RED",
    check: "api_error_rate",
  },
  "api.latency_p95": {
    title: "API p95 latency",
    description: "The API's p95 response time over its 5-minute sliding window is above maxP95Ms.",
    severity: "YELLOW",
    check: "api_latency_p95",
  },
  "postgres.latency": {
    title: "Database slow",
    description: "A round trip to PostgreSQL took longer than maxLatencyMs (or failed).",
    severity: "YELLOW",
    check: "postgres",
  },
  // Raised where the condition happens: the worker's job health, reconciliation, payments, the
  // live signals, the AI failover, backups and the API's watchdog.
  "jobs.failed_all_attempts": {
    title: "Job failed all attempts",
    description: "A job failed all of its attempts (raised by the worker as it happens; red until the job succeeds).",
    severity: "RED",
    check: "jobs",
  },
  "jobs.missed_run": {
    title: "Scheduled job late",
    description:
      "A scheduled job has not succeeded on time: yellow past its period, red past twice that (24 h / 48 h).",
    severity: "YELLOW",
    check: "jobs",
  },
  "reconciliation.mismatch": {
    title: "Reconciliation mismatch",
    description: "A reconciliation run found discrepancies between our payments and Stripe's charges.",
    severity: "RED",
    check: "stripe",
  },
  "payments.charge_held": {
    title: "Charge held",
    description:
      "A Stripe charge bought no placement (price mismatch, or a business not in the catalog): accept or refund it on the Placements page.",
    severity: "YELLOW",
    check: "stripe",
  },
  "stripe.webhook_success_rate": {
    title: "Webhook success rate",
    description: "More than 5 % of at least 5 Stripe webhook events failed in the last 5 minutes (a live signal).",
    severity: "RED",
    check: "webhooks",
  },
  "redis.down": {
    title: "Redis down",
    description: "Redis did not answer: the job queue, live updates and rate limits depend on it (a live signal).",
    severity: "RED",
    check: "redis",
  },
  "ai.monthly_budget": {
    title: "AI monthly budget",
    description:
      "The estimated AI spend this month reached 80 % (yellow) or 100 % (red) of AI_MONTHLY_BUDGET_CENTS (a live signal).",
    severity: "YELLOW",
    check: "ai_provider",
  },
  "auth.login_success_rate": {
    title: "Login success rate",
    description: "Fewer than half of at least 10 sign-in attempts succeeded in the last 15 minutes (a live signal).",
    severity: "RED",
    check: "api_error_rate",
  },
  "automation.ai_mode_switched": {
    title: "AI_MODE switched automatically",
    description: "The AI failover switched AI_MODE to deterministic after the provider stayed down.",
    severity: "YELLOW",
    check: "ai_provider",
  },
  "automation.ai_mode_switch_back_proposed": {
    title: "Switch back to the AI provider proposed",
    description: "The provider has been healthy long enough: switching AI_MODE back to provider is proposed.",
    severity: "GREEN",
    check: "ai_provider",
  },
  "backup.stale": {
    title: "Backup too old",
    description: "The newest verified backup is older than 26 h (with none ever: 26 h after the first job run).",
    severity: "RED",
    check: "postgres",
  },
  "backup.failed": {
    title: "Backup failed",
    description:
      "The last backup run failed (pg_dump, its check, or the upload to the S3-compatible store): yellow until a backup succeeds; backup.stale turns red 26 h after the last good one.",
    severity: "YELLOW",
    check: "postgres",
  },
  "backup.restore_failed": {
    title: "Backup did not restore",
    description: "A backup's test restore did not give back what was dumped.",
    severity: "RED",
    check: "postgres",
  },
  "email.dead": {
    title: "Email undeliverable",
    description:
      "An email to a business was given up on (a permanent refusal or its last attempt): one alert per address. Fix the address in the catalog; the business's page lists its emails.",
    severity: "YELLOW",
    check: "jobs",
  },
  "worker.silent": {
    title: "Worker silent",
    description:
      "The last heartbeat job or health-check result is older than WATCHDOG_STALE_SECONDS: raised by the API's watchdog.",
    severity: "RED",
    check: "jobs",
  },
} as const satisfies Record<string, AlertRuleMeta>;

export type AlertRuleKey = keyof typeof ALERT_RULES;

export const alertRuleKeys = Object.keys(ALERT_RULES) as AlertRuleKey[];

export function isAlertRuleKey(value: string): value is AlertRuleKey {
  return Object.hasOwn(ALERT_RULES, value);
}
