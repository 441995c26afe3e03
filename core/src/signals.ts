// Operating signals the seeds ask for beyond the health snapshot's rules, evaluated by the
// worker's health-checks job after each run: each raises its alert while it holds and clears it
// when it no longer does (thresholds in SIGNAL_THRESHOLDS, listed in the README's Health section).
//   webhook success rate  red when more than 5 % of the Stripe webhook events of the last 5 minutes failed
//   Redis                 red when this run's PING failed
//   AI spend vs budget    yellow from 80 % of AI_MONTHLY_BUDGET_CENTS this month, red from 100 %
//   login success rate    red when under 50 % of the last 15 minutes' sign-ins succeeded (mass login failure)
import type { Db, Severity } from "@steward/db/client";
import { type AlertCondition, type AlertDeps, clearAlert, raiseAlert } from "./alerts.ts";
import { dayIn, startOfMonth } from "./calendar.ts";
import type { Env } from "./env.ts";

export const SIGNAL_THRESHOLDS = {
  webhookFailedPercent: 5,
  webhookWindowMinutes: 5,
  /** Fewer events than this in the window say nothing about a rate. */
  webhookMinEvents: 5,
  aiBudgetYellowPercent: 80,
  aiBudgetRedPercent: 100,
  loginMinSuccessPercent: 50,
  loginWindowMinutes: 15,
  loginMinAttempts: 10,
} as const;

const MINUTE = 60_000;

export interface SignalReading {
  key: string;
  severity: Severity;
  detail: string;
}

type Evaluated = { condition: AlertCondition | null; reading: SignalReading };

const percent = (part: number, whole: number) => (whole === 0 ? 0 : (part / whole) * 100);
const round = (value: number) => Math.round(value * 10) / 10;

async function webhookSuccessRate(db: Db, now: Date): Promise<Evaluated> {
  const key = "stripe.webhook_success_rate";
  const since = new Date(now.getTime() - SIGNAL_THRESHOLDS.webhookWindowMinutes * MINUTE);
  const [total, failed] = await Promise.all([
    db.stripeWebhookEvent.count({ where: { receivedAt: { gte: since } } }),
    db.stripeWebhookEvent.count({ where: { receivedAt: { gte: since }, status: "FAILED" } }),
  ]);
  const failedPercent = percent(failed, total);
  const detail = `${failed} of ${total} Stripe webhook events failed in the last ${SIGNAL_THRESHOLDS.webhookWindowMinutes} min (${round(failedPercent)} %; red above ${SIGNAL_THRESHOLDS.webhookFailedPercent} %)`;
  const red = total >= SIGNAL_THRESHOLDS.webhookMinEvents && failedPercent > SIGNAL_THRESHOLDS.webhookFailedPercent;
  return {
    reading: { key, severity: red ? "RED" : "GREEN", detail },
    condition: red
      ? {
          fingerprint: key,
          ruleKey: key,
          severity: "RED",
          title: `Webhook success rate ${round(100 - failedPercent)} % (5 min)`,
          detail,
        }
      : null,
  };
}

function redisHealth(probeOk: boolean, detail: string): Evaluated {
  const key = "redis.down";
  return {
    reading: { key, severity: probeOk ? "GREEN" : "RED", detail },
    condition: probeOk
      ? null
      : {
          fingerprint: key,
          ruleKey: key,
          severity: "RED",
          title: "Redis is not answering",
          detail: `${detail}: the job queue, live updates and rate limits depend on it.`,
        },
  };
}

async function aiSpend(
  db: Db,
  env: Pick<Env, "AI_COST_PER_CALL_CENTS" | "AI_MONTHLY_BUDGET_CENTS" | "MARKETPLACE_TIME_ZONE">,
  now: Date,
): Promise<Evaluated> {
  const key = "ai.monthly_budget";
  const monthStart = startOfMonth(dayIn(now, env.MARKETPLACE_TIME_ZONE));
  const [row] = await db.$queryRaw<{ calls: number }[]>`
    SELECT count(*)::int AS calls FROM "ReviewScore"
     WHERE classifier = 'provider'
       AND "createdAt" >= ((${monthStart}::date)::timestamp AT TIME ZONE ${env.MARKETPLACE_TIME_ZONE}) AT TIME ZONE 'UTC'`;
  const spentCents = (row?.calls ?? 0) * env.AI_COST_PER_CALL_CENTS;
  const budget = env.AI_MONTHLY_BUDGET_CENTS;
  const usedPercent = budget > 0 ? percent(spentCents, budget) : 0;
  const severity: Severity =
    budget > 0 && usedPercent >= SIGNAL_THRESHOLDS.aiBudgetRedPercent
      ? "RED"
      : budget > 0 && usedPercent >= SIGNAL_THRESHOLDS.aiBudgetYellowPercent
        ? "YELLOW"
        : "GREEN";
  const detail = `AI spend this month about $${(spentCents / 100).toFixed(2)} of a $${(budget / 100).toFixed(2)} budget (${round(usedPercent)} %; ${row?.calls ?? 0} provider calls × ${env.AI_COST_PER_CALL_CENTS} ¢, estimated)`;
  return {
    reading: { key, severity, detail },
    condition:
      severity === "GREEN"
        ? null
        : {
            fingerprint: key,
            ruleKey: key,
            severity,
            title: `AI spend at ${Math.floor(usedPercent)} % of the monthly budget`,
            detail,
          },
  };
}

async function loginSuccessRate(db: Db, now: Date): Promise<Evaluated> {
  const key = "auth.login_success_rate";
  const since = new Date(now.getTime() - SIGNAL_THRESHOLDS.loginWindowMinutes * MINUTE);
  const [total, succeeded] = await Promise.all([
    db.loginAttempt.count({ where: { createdAt: { gte: since } } }),
    db.loginAttempt.count({ where: { createdAt: { gte: since }, succeeded: true } }),
  ]);
  const successPercent = total === 0 ? 100 : percent(succeeded, total);
  const detail = `${succeeded} of ${total} sign-ins succeeded in the last ${SIGNAL_THRESHOLDS.loginWindowMinutes} min (${round(successPercent)} %; red under ${SIGNAL_THRESHOLDS.loginMinSuccessPercent} %)`;
  const red = total >= SIGNAL_THRESHOLDS.loginMinAttempts && successPercent < SIGNAL_THRESHOLDS.loginMinSuccessPercent;
  return {
    reading: { key, severity: red ? "RED" : "GREEN", detail },
    condition: red
      ? {
          fingerprint: key,
          ruleKey: key,
          severity: "RED",
          title: `Login success rate ${round(successPercent)} % (15 min)`,
          detail,
        }
      : null,
  };
}

/** Evaluates every signal; raises the alerts that hold, clears the others. */
export async function checkOperatingSignals(
  deps: AlertDeps,
  env: Pick<Env, "AI_COST_PER_CALL_CENTS" | "AI_MONTHLY_BUDGET_CENTS" | "MARKETPLACE_TIME_ZONE">,
  redisProbe: { ok: boolean; detail: string },
  now = new Date(),
): Promise<SignalReading[]> {
  const { db } = deps;
  const evaluated = [
    await webhookSuccessRate(db, now),
    redisHealth(redisProbe.ok, redisProbe.detail),
    await aiSpend(db, env, now),
    await loginSuccessRate(db, now),
  ];
  for (const { condition, reading } of evaluated) {
    if (condition) await raiseAlert(deps, condition, now);
    else await clearAlert(deps, reading.key, `Cleared: ${reading.detail}`);
  }
  return evaluated.map((entry) => entry.reading);
}
