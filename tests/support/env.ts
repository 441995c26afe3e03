import { randomBytes } from "node:crypto";
import { type Env, loadEnv } from "@steward/core/env";

export function testDatabaseUrl(name: string): string {
  const base = new URL(
    process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward",
  );
  base.pathname = `/${name}`;
  return base.toString();
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

/** An Env for one isolated test stack: its own database and Redis key prefix. */
export function testEnv(databaseUrl: string, overrides: Record<string, string> = {}): Env {
  return loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
    REDIS_PREFIX: uniqueName("t"),
    API_PORT: "0",
    ...overrides,
  });
}
