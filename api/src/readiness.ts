// GET /readyz: can this instance serve? PostgreSQL and Redis each answer within 2 s.
import type { Db } from "@steward/db/client";
import type { SharedStore } from "@steward/core/ports/sharedStore";

export interface Readiness {
  postgres: boolean;
  redis: boolean;
}

export async function readiness(db: Db, redis: SharedStore): Promise<Readiness> {
  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);
  const [postgres, redisOk] = await Promise.all([
    within(db.$queryRaw`SELECT 1`, 2000).then(
      () => true,
      () => false,
    ),
    within(redis.ping(), 2000).then(
      (reply) => reply === "PONG",
      () => false,
    ),
  ]);
  return { postgres, redis: redisOk };
}

export function isReady(checks: Readiness): boolean {
  return Object.values(checks).every((ok) => ok);
}
