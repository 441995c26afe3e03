// The backups listed on the Health page: each pg_dump archive with its size, duration, where it is
// (BACKUP_DIR, and the S3-compatible store when one is configured) and what its checks found
// (core/src/backups.ts).
import { type BackupView, backupObjectUrl, listBackups } from "@steward/core/backups";
import { z } from "zod";
import { builder } from "../builder.ts";

const BackupStatusEnum = builder.enumType("BackupStatus", { values: ["RUNNING", "SUCCEEDED", "FAILED"] as const });

const BackupType = builder.objectRef<BackupView>("Backup").implement({
  description:
    "A pg_dump -Fc archive written by the backup job to BACKUP_DIR, and uploaded to the S3-compatible store when one is configured.",
  fields: (t) => ({
    id: t.exposeString("id"),
    fileName: t.exposeString("fileName"),
    status: t.expose("status", { type: BackupStatusEnum }),
    sizeBytes: t.exposeFloat("sizeBytes", { nullable: true }),
    durationMs: t.exposeInt("durationMs", { nullable: true }),
    error: t.exposeString("error", { nullable: true }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    verifiedAt: t.expose("verifiedAt", {
      type: "DateTime",
      nullable: true,
      description: "When pg_restore --list read the whole archive back.",
    }),
    restoredAt: t.expose("restoredAt", {
      type: "DateTime",
      nullable: true,
      description: "When the monthly check restored it into a scratch database.",
    }),
    restoreOk: t.exposeBoolean("restoreOk", {
      nullable: true,
      description: "Whether the restored money tables held the row counts that were dumped.",
    }),
    restoreDetail: t.exposeString("restoreDetail", { nullable: true }),
    sha256: t.exposeString("sha256", { nullable: true, description: "SHA-256 (hex) of the archive as written." }),
    objectUrl: t.string({
      nullable: true,
      description: "Where the archive was uploaded (s3://bucket/key); null when no object store was configured.",
      resolve: (backup) => backupObjectUrl(backup),
    }),
    uploadedAt: t.expose("uploadedAt", { type: "DateTime", nullable: true }),
    objectDeletedAt: t.expose("objectDeletedAt", {
      type: "DateTime",
      nullable: true,
      description: "When retention (BACKUP_S3_KEEP) deleted the uploaded object.",
    }),
  }),
});

builder.queryFields((t) => ({
  backups: t.field({
    type: [BackupType],
    description: "The newest backups first.",
    authScopes: { viewer: true },
    args: { limit: t.arg.int({ required: false, validate: z.number().int().min(1).max(100).nullish() }) },
    resolve: (_root, args, { db }) => listBackups(db, args.limit ?? 10),
  }),
}));
