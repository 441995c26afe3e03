// Daily (BACKUP_CRON): pg_dump -Fc of the database into BACKUP_DIR, read back whole with
// pg_restore --list; monthly (BACKUP_VERIFY_CRON): the newest backup restored into a scratch
// database and its money tables counted against what was dumped (core/src/backups.ts).
import { type BackupSettings, runBackup, verifyLatestRestore } from "@steward/core/backups";
import type { Env } from "@steward/core/env";
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const backupSettings = (env: Env): BackupSettings => ({
  databaseUrl: env.DATABASE_URL,
  backupDir: env.BACKUP_DIR,
  keep: env.BACKUP_KEEP,
  binDir: env.PG_BIN_DIR,
});

export const backupJob = defineJob({
  name: "backup",
  description: "Dumps the database with pg_dump -Fc into BACKUP_DIR and checks the archive reads back whole.",
  schedule: { pattern: process.env.BACKUP_CRON ?? "0 2 * * *", tz: "UTC", everyMinutes: 1440 },
  payload: z.object({}).passthrough(),
  async handler({ db, env }) {
    const backup = await runBackup(db, backupSettings(env));
    const megabytes = Number(backup.sizeBytes ?? 0) / 2 ** 20;
    return {
      summary: `${backup.fileName}: ${megabytes.toFixed(1)} MiB in ${((backup.durationMs ?? 0) / 1000).toFixed(1)} s, verified`,
      changes: { backupId: backup.id, sizeBytes: Number(backup.sizeBytes ?? 0), durationMs: backup.durationMs },
    };
  },
});

export const backupRestoreVerifyJob = defineJob({
  name: "backup-restore-verify",
  description:
    "Restores the newest backup into a scratch database with pg_restore and compares the money tables' row counts.",
  schedule: { pattern: process.env.BACKUP_VERIFY_CRON ?? "0 4 1 * *", tz: "UTC", everyMinutes: 31 * 1440 },
  payload: z.object({}).passthrough(),
  async handler({ db, env, events }) {
    const check = await verifyLatestRestore(db, backupSettings(env), new Date(), { events });
    if (!check.ok) throw new Error(check.detail);
    return { summary: check.detail, changes: { backupId: check.backupId, counts: check.restored } };
  },
});
