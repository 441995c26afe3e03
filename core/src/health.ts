// The latest result of each health check (written by the health probes as HealthCheckResult
// rows). The health engineer's `latestHealth` will replace this; until then it is read here, in
// one indexed look-up per check, and a check that never ran is UNKNOWN.
import type { DbTx } from "@steward/db/client";

export const HEALTH_CHECKS = [
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
] as const;

export interface HealthState {
  check: string;
  state: "OK" | "FAILING" | "UNKNOWN";
  checkedAt: string | null;
  latencyMs: number | null;
  detail: string | null;
}

export async function latestHealth(db: DbTx, checks: readonly string[] = HEALTH_CHECKS): Promise<HealthState[]> {
  const rows = await db.$queryRaw<
    { check: string; ok: boolean | null; checkedAt: Date | null; latencyMs: number | null; detail: string | null }[]
  >`
    SELECT name AS check, h.ok, h."checkedAt", h."latencyMs", h.detail
      FROM unnest(${[...checks]}::text[]) WITH ORDINALITY AS c(name, position)
      LEFT JOIN LATERAL (
        SELECT ok, "checkedAt", "latencyMs", detail FROM "HealthCheckResult"
         WHERE "check" = c.name ORDER BY "checkedAt" DESC LIMIT 1) h ON true
     ORDER BY c.position`;
  return rows.map((row) => ({
    check: row.check,
    state: row.ok === null ? "UNKNOWN" : row.ok ? "OK" : "FAILING",
    checkedAt: row.checkedAt?.toISOString() ?? null,
    latencyMs: row.latencyMs,
    detail: row.detail,
  }));
}
