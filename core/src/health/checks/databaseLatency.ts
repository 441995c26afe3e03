// Health check `postgres_query_p95`: the p95 of the application's own queries over 5 minutes,
// as every API and worker process measured them (core/src/queryLatency.ts), not a `SELECT 1`.
// The rule `database.query_p95` (alertRules.ts) turns it red above the playbook's 500 ms.
import { readQueryLatency } from "../../queryLatency.ts";
import type { HealthCheck } from "../check.ts";

export const databaseLatencyCheck: HealthCheck = {
  name: "postgres_query_p95",
  async measure({ redis, env, now }) {
    // Null when Redis, where the processes write their windows, cannot be read.
    const database = await readQueryLatency(redis, env.REDIS_PREFIX, now.getTime()).catch(() => null);
    return {
      snapshot: { database },
      result: {
        ok: database !== null,
        latencyMs: null,
        value: database?.p95Ms ?? null,
        detail:
          database === null
            ? "the processes' query windows could not be read"
            : database.p95Ms === null
              ? "no query timed in the last 5 min"
              : `p95 ${Math.round(database.p95Ms)} ms over ${database.queries} queries from ${database.processes} process(es) (last 5 min)`,
      },
    };
  },
};
