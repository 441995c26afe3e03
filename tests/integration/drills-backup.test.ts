// Backups, drilled for real: pg_dump -Fc of a database with paid placements, the archive restored
// with pg_restore into a brand-new database where the reconciliation against the Stripe sandbox
// runs clean; the monthly restore check matches the money tables' counts (and raises a red alert
// when they do not); a verified backup older than 26 hours is red.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BackupSettings,
  checkBackupFreshness,
  listBackups,
  restoreBackup,
  runBackup,
  verifyLatestRestore,
} from "@steward/core/backups";
import { loadEnv } from "@steward/core/env";
import { createEventBus, type EventBusHandle } from "@steward/core/adapters/redisEvents";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { createReconciliationRun, executeReconciliationRun } from "@steward/core/reconciliation/runs";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import { createPrismaClient } from "@steward/db/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createBusiness, createPaidPlacement, createRegion } from "../../bench/drills/fixtures.ts";
import { type DrillStack, startDrillStack } from "../../bench/drills/harness.ts";
import { dropDatabase, recreateDatabase } from "../../scripts/lib/database.ts";
import { quietDeps } from "../support/deps.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
let stack: DrillStack;
let bus: EventBusHandle;
let settings: BackupSettings;
let backupDir: string;

beforeAll(async () => {
  stack = await startDrillStack({ template: inject("templateDatabase") });
  bus = createEventBus(stack.redis.url, stack.env.REDIS_PREFIX!);
  backupDir = mkdtempSync(join(tmpdir(), "steward-backups-"));
  settings = { databaseUrl: stack.databaseUrl, backupDir, keep: 2 };
}, 90_000);
afterAll(async () => {
  await bus?.close();
  await stack?.stop();
  rmSync(backupDir, { recursive: true, force: true });
});

describe("a backup", () => {
  it("restores into a new database where the reconciliation runs clean, holding what was dumped", async () => {
    const from = new Date(Math.floor((Date.now() - 20 * DAY) / 1000) * 1000);
    const to = new Date(from.getTime() + DAY);
    const region = await createRegion(stack.db, 3);
    const business = await createBusiness(stack.db, region.id);
    for (let hour = 1; hour <= 5; hour++)
      await createPaidPlacement(stack.db, stack.stripe, business, new Date(from.getTime() + hour * HOUR));

    const backup = await runBackup(quietDeps(stack.db), settings);
    expect(backup).toMatchObject({ status: "SUCCEEDED", moneyCounts: { Payment: 5, Placement: 5 } });
    expect(Number(backup.sizeBytes)).toBeGreaterThan(1000);
    expect(backup.verifiedAt).not.toBeNull();
    expect(backup.durationMs).toBeGreaterThan(0);
    const [listed] = await listBackups(stack.db);
    expect(listed).toMatchObject({ id: backup.id, status: "SUCCEEDED", sizeBytes: Number(backup.sizeBytes) });

    // Written after the dump: not in the archive.
    await createPaidPlacement(stack.db, stack.stripe, business, new Date(to.getTime() + DAY));

    const restoredUrl = new URL(stack.databaseUrl);
    restoredUrl.pathname = `${restoredUrl.pathname}_restored`;
    await recreateDatabase(restoredUrl.toString());
    const restored = createPrismaClient(restoredUrl.toString(), 2);
    try {
      await restoreBackup(stack.db, settings, backup, restoredUrl.toString());
      expect(await restored.payment.count()).toBe(5);
      expect(await restored.placement.count()).toBe(5);

      const deps = {
        ...quietDeps(restored),
        copyIn: pgCopyIn(restoredUrl.toString()),
        events: bus.bus,
        stripe: createStripeGateway(loadEnv({ ...stack.env, LOG_LEVEL: "silent" })),
        sleep: () => Promise.resolve(),
      };
      const system = { kind: "SYSTEM", label: "backup drill" } as const;
      const run = await createReconciliationRun(deps, system, { from, to }, "MANUAL");
      const { run: done } = await executeReconciliationRun(deps, run.id);
      expect(done).toMatchObject({ status: "COMPLETED", discrepancyCount: 0 });
      expect(done.chargesCompared).toBe(5);
    } finally {
      await restored.$disconnect();
      await dropDatabase(restoredUrl.toString());
    }
  }, 120_000);

  it("the monthly restore check matches the money tables, drops its scratch database, and alerts when they differ", async () => {
    const scratchDatabases = async () =>
      (
        await stack.db.$queryRaw<
          { count: number }[]
        >`SELECT count(*)::int AS count FROM pg_database WHERE datname LIKE 'steward_restore_check_%'`
      )[0]?.count;
    const scratchBefore = await scratchDatabases();
    const check = await verifyLatestRestore(quietDeps(stack.db), settings);
    expect(check.ok).toBe(true);
    expect(check.restored).toEqual(check.expected);
    expect(await scratchDatabases()).toBe(scratchBefore);
    const backup = await stack.db.backup.findUniqueOrThrow({ where: { id: check.backupId } });
    expect(backup).toMatchObject({ restoreOk: true });

    // What the archive holds no longer matches what was recorded as dumped: red.
    await stack.db.backup.update({
      where: { id: check.backupId },
      data: { moneyCounts: { ...check.expected, Payment: check.expected.Payment + 1 } },
    });
    const bad = await verifyLatestRestore(quietDeps(stack.db), settings);
    expect(bad.ok).toBe(false);
    expect(bad.detail).toMatch(/Payment has 5 rows, dumped 6/);
    const alert = await stack.db.alert.findUniqueOrThrow({ where: { fingerprint: "backup.restore_failed" } });
    expect(alert).toMatchObject({ severity: "RED", status: "FIRING" });
  }, 120_000);

  it("is red when the newest verified backup is older than 26 hours, and keeps only BACKUP_KEEP archives", async () => {
    const now = new Date();
    expect((await checkBackupFreshness(quietDeps(stack.db), now)).stale).toBe(false);
    expect((await checkBackupFreshness(quietDeps(stack.db), new Date(now.getTime() + 27 * HOUR))).stale).toBe(true);
    const alert = await stack.db.alert.findUniqueOrThrow({ where: { fingerprint: "backup.stale" } });
    expect(alert).toMatchObject({ severity: "RED", status: "FIRING" });

    await runBackup(quietDeps(stack.db), settings);
    await runBackup(quietDeps(stack.db), settings);
    expect(readdirSync(backupDir).filter((name) => name.endsWith(".dump"))).toHaveLength(2);
    expect((await checkBackupFreshness(quietDeps(stack.db))).stale).toBe(false);
    expect((await stack.db.alert.findUniqueOrThrow({ where: { id: alert.id } })).status).toBe("RESOLVED");
  }, 120_000);
});
