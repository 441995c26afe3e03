// Daily (BACKUP_CRON): pg_dump -Fc of the database into BACKUP_DIR, read back whole with
// pg_restore --list, and uploaded to the S3-compatible store when BACKUP_S3_* is set; monthly
// (BACKUP_VERIFY_CRON): the newest backup restored into a scratch database (from the store when
// its local file is gone) and its money tables counted against what was dumped (core/src/backups.ts).
import { s3ObjectStore } from "@steward/core/adapters/s3";
import { type BackupSettings, backupObjectUrl, runBackup, verifyLatestRestore } from "@steward/core/backups";
import { backupS3Settings, type Env } from "@steward/core/env";
import { backup, backupRestoreVerify } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const backupSettings = (env: Env): BackupSettings => {
  const s3 = backupS3Settings(env);
  return {
    databaseUrl: env.DATABASE_URL,
    backupDir: env.BACKUP_DIR,
    keep: env.BACKUP_KEEP,
    binDir: env.PG_BIN_DIR,
    ...(s3 ? { objectStore: s3ObjectStore(s3), objectKeep: s3.keep } : {}),
  };
};

export const backupJob = handle(backup, async ({ deps }) => {
  const settings = backupSettings(deps.env);
  try {
    const made = await runBackup(deps, settings, deps.clock());
    const megabytes = Number(made.sizeBytes ?? 0) / 2 ** 20;
    const where = backupObjectUrl(made);
    return {
      summary: `${made.fileName}: ${megabytes.toFixed(1)} MiB in ${((made.durationMs ?? 0) / 1000).toFixed(1)} s, verified${where ? `, uploaded to ${where}` : ""}`,
      changes: {
        backupId: made.id,
        sizeBytes: Number(made.sizeBytes ?? 0),
        durationMs: made.durationMs,
        objectUrl: where,
      },
    };
  } finally {
    settings.objectStore?.close();
  }
});

export const backupRestoreVerifyJob = handle(backupRestoreVerify, async ({ deps }) => {
  const settings = backupSettings(deps.env);
  try {
    const check = await verifyLatestRestore(deps, settings, deps.clock());
    if (!check.ok) throw new Error(check.detail);
    return { summary: check.detail, changes: { backupId: check.backupId, counts: check.restored } };
  } finally {
    settings.objectStore?.close();
  }
});
