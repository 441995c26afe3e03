// PostgreSQL: one SELECT 1 round trip (the postgres.latency rule reads its latency).
import { type HealthCheck, timed } from "../check.ts";

export const postgresCheck: HealthCheck = {
  name: "postgres",
  async measure({ db }) {
    const postgres = await timed(() => db.$queryRaw`SELECT 1`, 5000);
    return {
      snapshot: { postgres: { ok: postgres.ok, latencyMs: postgres.latencyMs } },
      result: {
        ok: postgres.ok,
        latencyMs: postgres.latencyMs,
        value: postgres.latencyMs,
        detail: postgres.error ?? `SELECT 1 in ${postgres.latencyMs} ms`,
      },
    };
  },
};
