// Health check `postgres_query_p95`: the p95 of the application's own queries over 5 minutes,
// as every API and worker process measured them (core/src/queryLatency.ts), not a `SELECT 1`.
// The rule `database.query_p95` (alertRules.ts) turns it red above the playbook's 500 ms.
import type { HealthCheckResult, Severity } from "@steward/db/client";
import type { Redis } from "ioredis";
import type { HealthSnapshot } from "../../alertRules.ts";
import { readQueryLatency } from "../../queryLatency.ts";

export type DatabaseLatencyReading = HealthSnapshot["database"];

/** Null when Redis, where the processes write their windows, cannot be read. */
export async function readDatabaseLatency(redis: Redis, prefix: string, now: Date): Promise<DatabaseLatencyReading> {
  return readQueryLatency(redis, prefix, now.getTime()).catch(() => null);
}

export function databaseLatencyResult(
  reading: DatabaseLatencyReading,
  status: Severity,
  now: Date,
): Omit<HealthCheckResult, "id"> {
  return {
    check: "postgres_query_p95",
    ok: reading !== null,
    latencyMs: null,
    value: reading?.p95Ms ?? null,
    detail:
      reading === null
        ? "the processes' query windows could not be read"
        : reading.p95Ms === null
          ? "no query timed in the last 5 min"
          : `p95 ${Math.round(reading.p95Ms)} ms over ${reading.queries} queries from ${reading.processes} process(es) (last 5 min)`,
    status,
    checkedAt: now,
  };
}
