// Redis: one PING; red while it fails (the queue, live updates and rate limits depend on it).
import { type HealthCheck, timed } from "../check.ts";

export const redisCheck: HealthCheck = {
  name: "redis",
  async measure({ redis }) {
    const redisProbe = await timed(() => redis.ping(), 5000);
    return {
      result: {
        ok: redisProbe.ok,
        latencyMs: redisProbe.latencyMs,
        value: redisProbe.latencyMs,
        detail: redisProbe.error ?? `PING in ${redisProbe.latencyMs} ms`,
        status: redisProbe.ok ? "GREEN" : "RED",
      },
    };
  },
};
