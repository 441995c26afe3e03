// One health check: what it measures, its part of the snapshot the alert rules read, and the
// result row it stores. The run (health.ts) measures every registered check, evaluates the rules
// on the snapshot, and colours each row by its own probe and the rules of its check.
import type { Db, HealthCheckResult, Severity } from "@steward/db/client";
import type { z } from "zod";
import type { CheckName, HealthRule, HealthSnapshot } from "../alertRules.ts";
import type { WindowSummary } from "../apiWindow.ts";
import type { Env } from "../env.ts";
import type { PaymentsGateway } from "../ports/payments.ts";
import type { SharedStore } from "../ports/sharedStore.ts";

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

export interface CheckContext {
  db: Db;
  redis: SharedStore;
  stripe: PaymentsGateway;
  env: Pick<Env, "AI_MODE" | "AI_PROVIDER_URL" | "AI_TIMEOUT_MS" | "REDIS_PREFIX">;
  now: Date;
  /** A rule's thresholds in force (an ADMIN's setting, else its defaults). */
  thresholds: <Rule extends HealthRule>(rule: Rule) => z.infer<Rule["thresholds"]>;
  /** The API's 5-minute window (null: Redis unread), read once per run for the checks that share it. */
  apiWindow: () => Promise<WindowSummary | null>;
}

/** A stored result without what the run fills in (its check, time and status). */
export type CheckResult = Pick<HealthCheckResult, "ok" | "latencyMs" | "value" | "detail"> & {
  /** Set by checks no rule colours (Redis, jobs); otherwise the worst of the probe and the firing rules. */
  status?: Severity;
};

export interface CheckOutcome {
  /** Its part of the snapshot the alert rules read (none for checks no rule reads). */
  snapshot?: Partial<HealthSnapshot>;
  result: CheckResult;
}

export interface HealthCheck {
  name: CheckName;
  measure(context: CheckContext): Promise<CheckOutcome>;
}

export interface Probe {
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

/** Runs a probe with a deadline: its latency when it answered, its error when not. */
export async function timed(work: () => Promise<unknown>, timeoutMs: number): Promise<Probe> {
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
