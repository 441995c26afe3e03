// Settings are validated once at boot: a typo must fail fast with a message naming the variable,
// and everything optional gets a working default.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadEnv } from "./env.ts";

describe("loadEnv", () => {
  it("applies defaults to an empty environment", () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      NODE_ENV: "development",
      LOG_LEVEL: "info",
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/steward",
      REDIS_URL: "redis://127.0.0.1:6379/0",
      REDIS_PREFIX: "steward",
      API_HOST: "127.0.0.1",
      API_PORT: 4000,
      SESSION_TTL_HOURS: 12,
      COOKIE_SECURE: false,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: 5,
      MARKETPLACE_TIME_ZONE: "Australia/Melbourne",
      MARKETPLACE_LOCALE: "en-AU",
      WORKER_CONCURRENCY: 4,
      HEARTBEAT_CRON: "* * * * *",
    });
    expect(env.WEB_DIST_DIR).toBeUndefined();
  });

  it("checks the marketplace's time zone and locale, naming the variable", () => {
    expect(loadEnv({ MARKETPLACE_TIME_ZONE: "Europe/Paris", MARKETPLACE_LOCALE: "fr-FR" })).toMatchObject({
      MARKETPLACE_TIME_ZONE: "Europe/Paris",
      MARKETPLACE_LOCALE: "fr-FR",
    });
    expect(() => loadEnv({ MARKETPLACE_TIME_ZONE: "Melbourne" })).toThrow(/MARKETPLACE_TIME_ZONE: must be an IANA/);
    expect(() => loadEnv({ MARKETPLACE_LOCALE: "not a locale!" })).toThrow(/MARKETPLACE_LOCALE: must be a BCP 47/);
  });

  it("coerces numbers and booleans from their string form", () => {
    const env = loadEnv({ API_PORT: "8080", COOKIE_SECURE: "true", SESSION_TTL_HOURS: "1.5", WORKER_CONCURRENCY: "2" });
    expect(env).toMatchObject({ API_PORT: 8080, COOKIE_SECURE: true, SESSION_TTL_HOURS: 1.5, WORKER_CONCURRENCY: 2 });
  });

  it.each(["not a url", "localhost:5432/steward", "mysql://root@127.0.0.1/steward"])(
    "rejects DATABASE_URL=%s, naming the variable",
    (value) => {
      expect(() => loadEnv({ DATABASE_URL: value })).toThrow(
        /Invalid environment:\n\s+DATABASE_URL: must be a postgresql:\/\/ URL/,
      );
    },
  );

  it("accepts both postgres:// and postgresql://, and rediss:// for TLS", () => {
    expect(loadEnv({ DATABASE_URL: "postgres://u:p@db:5432/steward" }).DATABASE_URL).toBe(
      "postgres://u:p@db:5432/steward",
    );
    expect(loadEnv({ REDIS_URL: "rediss://cache:6380/0" }).REDIS_URL).toBe("rediss://cache:6380/0");
    expect(() => loadEnv({ REDIS_URL: "http://cache:6379" })).toThrow(
      /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/,
    );
  });

  it.each(["70000", "-1", "http", "80.5"])("rejects API_PORT=%s", (value) => {
    expect(() => loadEnv({ API_PORT: value })).toThrow(/API_PORT: /);
  });

  it("reads ALLOWED_ORIGINS as a list of origins, empty by default, and names a bad entry", () => {
    expect(loadEnv({}).ALLOWED_ORIGINS).toEqual([]);
    expect(loadEnv({ ALLOWED_ORIGINS: " https://ops.example , https://b.example" }).ALLOWED_ORIGINS).toEqual([
      "https://ops.example",
      "https://b.example",
    ]);
    expect(() => loadEnv({ ALLOWED_ORIGINS: "https://ops.example,ops.example" })).toThrow(/ALLOWED_ORIGINS/);
  });

  it("rejects COOKIE_SECURE values other than true/false instead of guessing", () => {
    expect(() => loadEnv({ COOKIE_SECURE: "yes" })).toThrow(/COOKIE_SECURE: /);
  });

  it("lists every problem at once", () => {
    let message = "";
    try {
      loadEnv({ REDIS_URL: "not a url", NODE_ENV: "staging", API_PORT: "70000" });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).toMatch(/REDIS_URL: /);
    expect(message).toMatch(/NODE_ENV: /);
    expect(message).toMatch(/API_PORT: /);
  });

  it("takes an empty variable as unset, as Compose passes an optional `${NAME:-}`", () => {
    const env = loadEnv({ BACKUP_S3_ENDPOINT: "", BACKUP_S3_BUCKET: "", REDIS_PREFIX: "", API_PORT: "" });
    expect(env.BACKUP_S3_ENDPOINT).toBeUndefined();
    expect(env.REDIS_PREFIX).toBe("steward");
    expect(env.API_PORT).toBe(4000);
    // A set one still counts: the partial S3 set is refused.
    expect(() => loadEnv({ BACKUP_S3_ENDPOINT: "http://127.0.0.1:9000", BACKUP_S3_BUCKET: "" })).toThrow(
      /BACKUP_S3_BUCKET/,
    );
  });

  it("refuses production without NOTIFY_SECRET_KEY, and any key that is not 32 bytes of base64", () => {
    expect(() => loadEnv({ NODE_ENV: "production" })).toThrow(/NOTIFY_SECRET_KEY: required in production/);
    const key = randomBytes(32).toString("base64");
    expect(loadEnv({ NODE_ENV: "production", NOTIFY_SECRET_KEY: key }).NOTIFY_SECRET_KEY).toBe(key);
    for (const value of [randomBytes(16).toString("base64"), "not base64 at all, not at all!!!!!!!!!!!!!"])
      expect(() => loadEnv({ NOTIFY_SECRET_KEY: value })).toThrow(/NOTIFY_SECRET_KEY: must be 32 bytes/);
    // Development and test run without one (the public development key).
    expect(loadEnv({}).NOTIFY_SECRET_KEY).toBeUndefined();
  });
});
