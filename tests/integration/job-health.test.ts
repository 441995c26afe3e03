// Missed-run detection and failed-all-attempts alerts: deduplicated by fingerprint, escalated,
// resolved when the job recovers, reopened when it misses again; restored schedules after a
// Redis flush.
import { createLogger } from "@steward/core/logger";
import { checkMissedRuns } from "@steward/core/jobHealth";
import { readFile } from "node:fs/promises";
import { UnrecoverableError } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob } from "../../worker/src/jobs/definition.ts";
import { jobCatalog } from "../../worker/src/registry.ts";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { jobContracts } from "@steward/jobs/contracts";
import { buildWorker } from "../../worker/src/worker.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { testEnv } from "../support/env.ts";
import { quietDeps } from "../support/deps.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const HOUR = 3_600_000;
const now = new Date("2026-11-23T10:00:00Z");
const daily = [{ name: "featured-expiry-and-promotion", periodMinutes: 1440 }];

async function succeededAt(finishedAt: Date) {
  await database.db.jobRun.create({
    data: {
      jobName: daily[0]!.name,
      queueJobId: `q-${finishedAt.getTime()}`,
      trigger: "SCHEDULE",
      attempt: 1,
      status: "SUCCEEDED",
      startedAt: finishedAt,
      finishedAt,
    },
  });
}

describe("missed runs of the daily job", () => {
  it("goes yellow after 24 h, red after 48 h (one alert, escalated), resolves on success, reopens when late again", async () => {
    const { db } = database;
    await succeededAt(new Date(now.getTime() - 26 * HOUR));
    expect((await checkMissedRuns(quietDeps(db), daily, now))[0]?.state).toBe("YELLOW");
    let alert = await db.alert.findUniqueOrThrow({
      where: { fingerprint: "job-missed:featured-expiry-and-promotion" },
    });
    expect(alert).toMatchObject({ ruleKey: "jobs.missed_run", severity: "YELLOW", status: "FIRING", count: 1 });

    await checkMissedRuns(quietDeps(db), daily, new Date(now.getTime() + 24 * HOUR)); // 50 h since the last success
    alert = await db.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(alert).toMatchObject({ severity: "RED", status: "FIRING", count: 2 });
    expect(await db.alert.count()).toBe(1);

    const recovered = new Date(now.getTime() + 25 * HOUR);
    await succeededAt(recovered);
    await checkMissedRuns(quietDeps(db), daily, recovered);
    alert = await db.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(alert.status).toBe("RESOLVED");
    expect(alert.resolutionNote).toMatch(/succeeded/);

    await checkMissedRuns(quietDeps(db), daily, new Date(recovered.getTime() + 26 * HOUR));
    alert = await db.alert.findUniqueOrThrow({
      where: { id: alert.id },
      include: { events: { orderBy: { createdAt: "asc" } } },
    });
    expect(alert.status).toBe("FIRING");
    const timeline = await db.alertEvent.findMany({ where: { alertId: alert.id }, orderBy: { id: "asc" } });
    expect(timeline.map((event) => event.kind)).toEqual(["FIRED", "UPDATED", "RESOLVED", "REOPENED"]);
    expect(await db.auditEvent.count({ where: { targetId: alert.id } })).toBe(4);
  });

  it("stays quiet while the job is on time", async () => {
    const fresh = await createTestDatabase();
    try {
      await fresh.db.jobRun.create({
        data: {
          jobName: daily[0]!.name,
          queueJobId: "q-ok",
          trigger: "SCHEDULE",
          attempt: 1,
          status: "SUCCEEDED",
          startedAt: now,
          finishedAt: new Date(now.getTime() - 23 * HOUR),
        },
      });
      expect((await checkMissedRuns(quietDeps(fresh.db), daily, now))[0]?.state).toBe("OK");
      expect(await fresh.db.alert.count()).toBe(0);
    } finally {
      await fresh.drop();
    }
  });
});

describe("the alert rule key migration", () => {
  it("renames stored job health alerts to the registry's keys and keeps their fingerprints", async () => {
    const { db } = database;
    const legacy = [
      { fingerprint: "job-missed:legacy-job", ruleKey: "job-missed-run" },
      { fingerprint: "job-failed:legacy-job", ruleKey: "job-failed-all-attempts" },
    ];
    for (const alert of legacy)
      await db.alert.create({ data: { ...alert, severity: "RED", title: "legacy", detail: "before the rename" } });
    const migration = await readFile(
      new URL("../../prisma/migrations/20261206042500_alert_rule_keys/migration.sql", import.meta.url),
      "utf8",
    );
    for (const statement of migration
      .replace(/^--.*$/gm, "")
      .split(";")
      .filter((sql) => /\bUPDATE\b/.test(sql)))
      await db.$executeRawUnsafe(statement);
    const renamed = await db.alert.findMany({
      where: { fingerprint: { in: legacy.map((alert) => alert.fingerprint) } },
      orderBy: { fingerprint: "asc" },
    });
    expect(renamed.map((alert) => [alert.fingerprint, alert.ruleKey])).toEqual([
      ["job-failed:legacy-job", "jobs.failed_all_attempts"],
      ["job-missed:legacy-job", "jobs.missed_run"],
    ]);
    await db.alert.deleteMany({ where: { fingerprint: { in: legacy.map((alert) => alert.fingerprint) } } });
  });
});

describe("a job that has never succeeded", () => {
  it("is quiet within its first period, alerts once the first period is missed, red after two", async () => {
    const fresh = await createTestDatabase();
    try {
      const hourly = [{ name: "never-succeeds", periodMinutes: 60 }];
      const fingerprint = "job-missed:never-succeeds";
      const scheduledAt = new Date(now.getTime() - 50 * 60_000);
      expect((await checkMissedRuns(quietDeps(fresh.db), hourly, now, scheduledAt))[0]?.state).toBe("NEVER_RAN");
      expect(await fresh.db.alert.count()).toBe(0);

      // One period and its grace (6 min) after the schedule was put in place: missed.
      const late = new Date(scheduledAt.getTime() + 67 * 60_000);
      expect((await checkMissedRuns(quietDeps(fresh.db), hourly, late, scheduledAt))[0]?.state).toBe("YELLOW");
      const alert = await fresh.db.alert.findUniqueOrThrow({ where: { fingerprint } });
      expect(alert).toMatchObject({
        severity: "YELLOW",
        status: "FIRING",
        title: "Job never-succeeds has never succeeded",
      });

      // A failed first attempt older than the worker's start counts from that attempt.
      await fresh.db.jobRun.create({
        data: {
          jobName: "never-succeeds",
          queueJobId: "q-failed",
          trigger: "SCHEDULE",
          attempt: 1,
          status: "FAILED",
          startedAt: new Date(scheduledAt.getTime() - 3 * HOUR),
          finishedAt: new Date(scheduledAt.getTime() - 3 * HOUR),
        },
      });
      expect((await checkMissedRuns(quietDeps(fresh.db), hourly, late, scheduledAt))[0]?.state).toBe("RED");
    } finally {
      await fresh.drop();
    }
  });
});

describe("the worker", () => {
  it("raises a red alert when a job fails all its attempts, and clears it when the job next succeeds", async () => {
    const env = testEnv(database.url);
    let fail = true;
    const flaky = defineJob({
      name: "flaky",
      description: "fails on demand",
      payload: z.object({}).passthrough(),
      handler() {
        if (fail) return Promise.reject(new UnrecoverableError("the provider said no"));
        return Promise.resolve({ summary: "ok" });
      },
    });
    const worker = buildWorker(env, createLogger("t", "silent"), [flaky]);
    await worker.start();
    try {
      await worker.queues.add("flaky", { trigger: "MANUAL" });
      await expect
        .poll(
          async () => (await database.db.alert.findUnique({ where: { fingerprint: "job-failed:flaky" } }))?.status,
          { timeout: 15_000 },
        )
        .toBe("FIRING");
      fail = false;
      await worker.queues.add("flaky", { trigger: "MANUAL" });
      await expect
        .poll(
          async () => (await database.db.alert.findUnique({ where: { fingerprint: "job-failed:flaky" } }))?.status,
          { timeout: 15_000 },
        )
        .toBe("RESOLVED");
    } finally {
      await worker.stop();
    }
  });

  it("restores every schedule after Redis loses its keys, when the worker restarts", async () => {
    const env = testEnv(database.url);
    const queue = createBullJobQueues({ redisUrl: env.REDIS_URL, prefix: env.REDIS_PREFIX });
    try {
      const first = buildWorker(env, createLogger("t", "silent"), jobCatalog(env));
      await first.start();
      await first.stop();
      // What a Redis flush does to this stack: every key under its prefix is gone.
      const client = new Redis(env.REDIS_URL);
      const keys = await client.keys(`${env.REDIS_PREFIX}:*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
      expect(await queue.scheduleNames()).not.toContain("featured-expiry-and-promotion");

      const second = buildWorker(env, createLogger("t", "silent"), jobCatalog(env));
      await second.start();
      await second.stop();
      const scheduled = jobContracts(env)
        .filter((job) => job.schedule)
        .map((job) => job.name);
      const present = await queue.scheduleNames();
      for (const name of scheduled) expect(present, name).toContain(name);
    } finally {
      await queue.close();
    }
  });
});
