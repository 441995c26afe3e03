// Daily (BACKUP_CRON): pg_dump -Fc of the database into BACKUP_DIR, read back whole with
// pg_restore --list; monthly (BACKUP_VERIFY_CRON): the newest backup restored into a scratch
// database and its money tables counted against what was dumped (core/src/backups.ts).
import { type BackupSettings, runBackup, verifyLatestRestore } from "@steward/core/backups";
import type { Env } from "@steward/core/env";
import { backup, backupRestoreVerify } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const backupSettings = (env: Env): BackupSettings => ({
  databaseUrl: env.DATABASE_URL,
  backupDir: env.BACKUP_DIR,
  keep: env.BACKUP_KEEP,
  binDir: env.PG_BIN_DIR,
});

export const backupJob = handle(backup, async ({ db, env }) => {
  const made = await runBackup(db, backupSettings(env));
  const megabytes = Number(made.sizeBytes ?? 0) / 2 ** 20;
  return {
    summary: `${made.fileName}: ${megabytes.toFixed(1)} MiB in ${((made.durationMs ?? 0) / 1000).toFixed(1)} s, verified`,
    changes: { backupId: made.id, sizeBytes: Number(made.sizeBytes ?? 0), durationMs: made.durationMs },
  };
});

export const backupRestoreVerifyJob = handle(backupRestoreVerify, async ({ db, env, events }) => {
  const check = await verifyLatestRestore(db, backupSettings(env), new Date(), { events });
  if (!check.ok) throw new Error(check.detail);
  return { summary: check.detail, changes: { backupId: check.backupId, counts: check.restored } };
});
