// Backups that are verified. The `backup` job dumps the database with PostgreSQL's own
// `pg_dump -Fc` into BACKUP_DIR and reads the archive back whole with `pg_restore --list` (then it
// counts as verified). The dump runs on a snapshot exported from a REPEATABLE READ transaction in
// which the money tables were counted, so the counts stored with the backup are exactly what the
// archive holds. The monthly `backup-restore-verify` job restores the newest backup into a scratch
// database with `pg_restore` and compares those counts. Health checks raise a red alert when the
// newest verified backup is older than 26 hours, and another when a restore did not match.
// With an object store configured (BACKUP_S3_*, the port in ports/objectStore.ts), each archive is
// also uploaded after it was checked and checksummed; the restore fetches it from there when the
// local file is gone (checking its SHA-256), and retention deletes old objects. A run that fails,
// the upload included, is recorded FAILED and raises the yellow `backup.failed` alert.
// The binaries are the ones matching the server's major version (a newer pg_dump refuses nothing,
// an older one refuses a newer server): PG_BIN_DIR, else /usr/lib/postgresql/<major>/bin, else PATH.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { type Backup, createPrismaClient, databaseConnectionOptions, type Db, Prisma } from "@steward/db/client";
import { type AlertDeps, clearAlert, raiseAlert } from "./alerts.ts";
import type { ObjectStore } from "./ports/objectStore.ts";

const run = promisify(execFile);

/** The tables whose rows are money: a restore must bring back every one of them. */
export const MONEY_TABLES = ["Payment", "RefundRequest", "Placement", "ReconciliationRun", "Discrepancy"] as const;
export type MoneyCounts = Record<(typeof MONEY_TABLES)[number], number>;

export const BACKUP_STALE_RULE_KEY = "backup.stale";
export const BACKUP_RESTORE_RULE_KEY = "backup.restore_failed";
export const BACKUP_FAILED_RULE_KEY = "backup.failed";
/** The newest verified backup may be this old before the red alert (a daily job with 2 h to spare). */
export const BACKUP_MAX_AGE_HOURS = 26;
const HOUR = 3_600_000;

export interface BackupSettings {
  databaseUrl: string;
  backupDir: string;
  /** Archives kept in BACKUP_DIR; older ones are deleted after a successful backup. */
  keep: number;
  /** Where pg_dump/pg_restore live (PG_BIN_DIR); found from the server's version when unset. */
  binDir?: string;
  /** An S3-compatible store (BACKUP_S3_*): each archive is uploaded there too, and restored from it. */
  objectStore?: ObjectStore;
  /** Objects kept in the store (BACKUP_S3_KEEP); older ones are deleted after a successful backup. */
  objectKeep?: number;
}

/** libpq's settings from the URL, as environment (the password never appears in `ps`). */
function libpqEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const options = databaseConnectionOptions(databaseUrl);
  return {
    ...process.env,
    PGHOST: options.host,
    PGPORT: String(options.port),
    PGUSER: options.user,
    PGDATABASE: options.database,
    ...(options.password ? { PGPASSWORD: options.password } : {}),
  };
}

/** The directory of pg_dump/pg_restore matching the server's major version. */
export async function postgresBinDir(db: Db, configured?: string): Promise<string | null> {
  if (configured) return configured;
  const [row] = await db.$queryRaw<{ version: string }[]>`SELECT current_setting('server_version_num') AS version`;
  const major = row ? Math.floor(Number(row.version) / 10_000) : null;
  const debian = major ? `/usr/lib/postgresql/${major}/bin` : null;
  if (debian && existsSync(join(debian, "pg_dump"))) return debian;
  return null; // on PATH
}

const binary = (dir: string | null, name: string) => (dir ? join(dir, name) : name);

async function countMoneyTables(db: Prisma.TransactionClient | Db): Promise<MoneyCounts> {
  const counts = {} as MoneyCounts;
  for (const table of MONEY_TABLES) {
    const [row] = await db.$queryRaw<
      { count: number }[]
    >`SELECT count(*)::int AS count FROM ${Prisma.raw(`"${table}"`)}`;
    counts[table] = row?.count ?? 0;
  }
  return counts;
}

/** SHA-256 (hex) of a file, read as a stream. */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface BackupView {
  id: string;
  fileName: string;
  status: Backup["status"];
  sizeBytes: number | null;
  durationMs: number | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  verifiedAt: Date | null;
  restoredAt: Date | null;
  restoreOk: boolean | null;
  restoreDetail: string | null;
  sha256: string | null;
  objectBucket: string | null;
  objectKey: string | null;
  uploadedAt: Date | null;
  objectDeletedAt: Date | null;
}

/** Where an uploaded archive is ("s3://bucket/key"), null when it was never uploaded. */
export const backupObjectUrl = (backup: Pick<Backup, "objectBucket" | "objectKey">): string | null =>
  backup.objectBucket && backup.objectKey ? `s3://${backup.objectBucket}/${backup.objectKey}` : null;

export function backupView(backup: Backup): BackupView {
  const { moneyCounts: _counts, sizeBytes, ...rest } = backup;
  return { ...rest, sizeBytes: sizeBytes === null ? null : Number(sizeBytes) };
}

export async function listBackups(db: Db, limit = 20): Promise<BackupView[]> {
  const rows = await db.backup.findMany({ orderBy: { startedAt: "desc" }, take: limit });
  return rows.map(backupView);
}

/**
 * Dumps the database, verifies the archive reads back whole, checksums it, uploads it to the
 * object store when one is configured, records it; prunes old archives (and objects). A failure
 * anywhere records the run FAILED, raises `backup.failed` and rethrows.
 */
export async function runBackup(deps: AlertDeps, settings: BackupSettings, now = new Date()): Promise<Backup> {
  const { db } = deps;
  const directory = resolve(settings.backupDir);
  mkdirSync(directory, { recursive: true });
  const fileName = `steward-${now.toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}.dump`;
  const path = join(directory, fileName);
  const backup = await db.backup.create({ data: { fileName, startedAt: now } });
  const started = performance.now();
  const bin = await postgresBinDir(db, settings.binDir);
  const env = libpqEnv(settings.databaseUrl);
  try {
    // The counts and the dump see one snapshot: the transaction stays open until pg_dump is done.
    const moneyCounts = await db.$transaction(
      async (tx) => {
        const [snapshot] = await tx.$queryRaw<{ id: string }[]>`SELECT pg_export_snapshot() AS id`;
        const counts = await countMoneyTables(tx);
        await run(binary(bin, "pg_dump"), ["-Fc", `--snapshot=${snapshot!.id}`, "-f", path], {
          env,
          maxBuffer: 16 * 2 ** 20,
        });
        return counts;
      },
      { isolationLevel: "RepeatableRead", timeout: 6 * HOUR, maxWait: 60_000 },
    );
    await run(binary(bin, "pg_restore"), ["--list", path], { env, maxBuffer: 64 * 2 ** 20 });
    const verifiedAt = new Date();
    const sha256 = await sha256Of(path);
    const store = settings.objectStore;
    const uploaded = store ? await store.upload(store.keyFor(fileName), path) : null;
    const saved = await db.backup.update({
      where: { id: backup.id },
      data: {
        status: "SUCCEEDED",
        sizeBytes: statSync(path).size,
        durationMs: Math.round(performance.now() - started),
        moneyCounts,
        finishedAt: new Date(),
        verifiedAt,
        sha256,
        ...(uploaded ? { objectBucket: uploaded.bucket, objectKey: uploaded.key, uploadedAt: new Date() } : {}),
      },
    });
    pruneArchives(directory, settings.keep);
    const retention = store ? await pruneObjects(db, store, settings.objectKeep ?? settings.keep) : null;
    await clearAlert(deps, BACKUP_FAILED_RULE_KEY, `Backup ${fileName} succeeded`);
    return retention ? await db.backup.update({ where: { id: saved.id }, data: { error: retention } }) : saved;
  } catch (error) {
    rmSync(path, { force: true });
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
    await db.backup.update({
      where: { id: backup.id },
      data: {
        status: "FAILED",
        error: message,
        durationMs: Math.round(performance.now() - started),
        finishedAt: new Date(),
      },
    });
    await raiseAlert(
      deps,
      {
        fingerprint: BACKUP_FAILED_RULE_KEY,
        ruleKey: BACKUP_FAILED_RULE_KEY,
        severity: "YELLOW",
        title: "The last backup failed",
        detail: `Backup ${fileName} failed: ${message}`,
      },
      new Date(),
    );
    throw error;
  }
}

/**
 * Deletes from the store the objects of all but the newest `keep` uploaded backups (the records
 * stay, with `objectDeletedAt`). A deletion that fails is left for the next run and reported.
 */
async function pruneObjects(db: Db, store: ObjectStore, keep: number): Promise<string | null> {
  const stale = await db.backup.findMany({
    where: { status: "SUCCEEDED", objectBucket: store.bucket, objectKey: { not: null }, objectDeletedAt: null },
    orderBy: { startedAt: "desc" },
    skip: keep,
    select: { id: true, objectKey: true },
  });
  const failures: string[] = [];
  for (const backup of stale) {
    try {
      await store.delete(backup.objectKey!);
      await db.backup.update({ where: { id: backup.id }, data: { objectDeletedAt: new Date() } });
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  return failures.length > 0
    ? `Retention left ${failures.length} old object(s): ${failures.join("; ")}`.slice(0, 2000)
    : null;
}

function pruneArchives(directory: string, keep: number): void {
  const archives = readdirSync(directory)
    .filter((name) => name.startsWith("steward-") && name.endsWith(".dump"))
    .sort()
    .reverse();
  for (const name of archives.slice(keep)) rmSync(join(directory, name), { force: true });
}

/**
 * `pg_restore` of a backup into `targetUrl` (an existing, empty database), from BACKUP_DIR or,
 * when the file is gone there, from the object store. Says where the archive came from.
 */
export async function restoreBackup(
  db: Db,
  settings: BackupSettings,
  backup: Backup,
  targetUrl: string,
): Promise<string> {
  const local = join(resolve(settings.backupDir), backup.fileName);
  const fetched = existsSync(local) ? null : await fetchArchive(settings, backup);
  const path = fetched ?? local;
  try {
    const bin = await postgresBinDir(db, settings.binDir);
    const target = databaseConnectionOptions(targetUrl);
    await run(
      binary(bin, "pg_restore"),
      ["--no-owner", "--no-privileges", "--exit-on-error", "-d", target.database, path],
      { env: libpqEnv(targetUrl), maxBuffer: 16 * 2 ** 20 },
    );
  } finally {
    if (fetched) rmSync(fetched, { force: true });
  }
  return fetched ? backupObjectUrl(backup)! : settings.backupDir;
}

/**
 * The archive of a backup whose local file is gone, downloaded from the object store into a
 * temporary file beside the archives (the caller removes it), checked against its SHA-256.
 */
async function fetchArchive(settings: BackupSettings, backup: Backup): Promise<string> {
  const where = backupObjectUrl(backup);
  const gone = `The archive ${backup.fileName} is no longer in ${settings.backupDir}`;
  if (!where || backup.objectDeletedAt)
    throw new Error(where ? `${gone}, and ${where} was deleted by retention` : gone);
  const store = settings.objectStore;
  if (!store) throw new Error(`${gone}; it is in ${where}, but no object store is configured (BACKUP_S3_*)`);
  if (store.bucket !== backup.objectBucket)
    throw new Error(`${gone}; it is in ${where}, but the configured bucket is ${store.bucket}`);
  const directory = resolve(settings.backupDir);
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `.restore-${randomBytes(4).toString("hex")}-${backup.fileName}`);
  try {
    await store.download(backup.objectKey!, path);
    const sha256 = await sha256Of(path);
    if (backup.sha256 && sha256 !== backup.sha256)
      throw new Error(`${where} does not match the archive written (SHA-256 ${sha256}, written ${backup.sha256})`);
    return path;
  } catch (error) {
    rmSync(path, { force: true });
    throw error;
  }
}

export interface RestoreCheck {
  backupId: string;
  ok: boolean;
  detail: string;
  expected: MoneyCounts;
  restored: MoneyCounts | null;
}

/**
 * Restores the newest successful backup into a scratch database next to the live one, compares
 * the money tables' row counts with those dumped, records the outcome on the backup, drops the
 * scratch database, and raises (or clears) the red restore alert.
 */
export async function verifyLatestRestore(
  deps: AlertDeps,
  settings: BackupSettings,
  now = new Date(),
): Promise<RestoreCheck> {
  const { db } = deps;
  const backup = await db.backup.findFirst({ where: { status: "SUCCEEDED" }, orderBy: { startedAt: "desc" } });
  if (!backup) throw new Error("No successful backup to restore");
  const expected = backup.moneyCounts as MoneyCounts;
  const scratchName = `steward_restore_check_${randomBytes(4).toString("hex")}`;
  const scratchUrl = new URL(settings.databaseUrl);
  scratchUrl.pathname = `/${scratchName}`;
  let restored: MoneyCounts | null = null;
  let detail: string;
  await db.$executeRawUnsafe(`CREATE DATABASE "${scratchName}"`);
  try {
    const source = await restoreBackup(db, settings, backup, scratchUrl.toString());
    const scratch = createPrismaClient(scratchUrl.toString(), 1);
    try {
      restored = await countMoneyTables(scratch);
    } finally {
      await scratch.$disconnect();
    }
    const mismatches = MONEY_TABLES.filter((table) => restored![table] !== expected[table]);
    detail =
      mismatches.length === 0
        ? `Restored ${backup.fileName} from ${source}: ${MONEY_TABLES.map((table) => `${table} ${restored![table]}`).join(", ")}, as dumped`
        : `Restored ${backup.fileName} from ${source} but ${mismatches.map((table) => `${table} has ${restored![table]} rows, dumped ${expected[table]}`).join("; ")}`;
  } catch (error) {
    detail = `Restoring ${backup.fileName} failed: ${error instanceof Error ? error.message : String(error)}`.slice(
      0,
      2000,
    );
  } finally {
    await db.$executeRawUnsafe(`DROP DATABASE IF EXISTS "${scratchName}" WITH (FORCE)`);
  }
  const ok = restored !== null && MONEY_TABLES.every((table) => restored[table] === expected[table]);
  await db.backup.update({ where: { id: backup.id }, data: { restoredAt: now, restoreOk: ok, restoreDetail: detail } });
  if (ok) await clearAlert(deps, BACKUP_RESTORE_RULE_KEY, detail);
  else
    await raiseAlert(
      deps,
      {
        fingerprint: BACKUP_RESTORE_RULE_KEY,
        ruleKey: BACKUP_RESTORE_RULE_KEY,
        severity: "RED",
        title: "A backup did not restore as dumped",
        detail,
      },
      now,
    );
  return { backupId: backup.id, ok, detail, expected, restored };
}

/**
 * Red while the newest verified backup is older than 26 hours. With no backup ever, counted from
 * the first job run the worker recorded (a fresh install gets its first day to make one).
 */
export async function checkBackupFreshness(
  deps: AlertDeps,
  now = new Date(),
): Promise<{ stale: boolean; ageHours: number | null }> {
  const { db } = deps;
  const latest = await db.backup.findFirst({
    where: { status: "SUCCEEDED", verifiedAt: { not: null } },
    orderBy: { verifiedAt: "desc" },
    select: { verifiedAt: true, fileName: true },
  });
  const since =
    latest?.verifiedAt ??
    (await db.jobRun.findFirst({ orderBy: { startedAt: "asc" }, select: { startedAt: true } }))?.startedAt ??
    null;
  const ageHours = since ? (now.getTime() - since.getTime()) / HOUR : null;
  const stale = ageHours !== null && ageHours > BACKUP_MAX_AGE_HOURS;
  if (stale)
    await raiseAlert(
      deps,
      {
        fingerprint: BACKUP_STALE_RULE_KEY,
        ruleKey: BACKUP_STALE_RULE_KEY,
        severity: "RED",
        title: latest ? "The last verified backup is too old" : "No verified backup yet",
        detail: latest
          ? `The newest verified backup (${latest.fileName}) is ${Math.floor(ageHours)} h old (limit ${BACKUP_MAX_AGE_HOURS} h). Is the backup job running, and BACKUP_DIR writable?`
          : `No verified backup in ${Math.floor(ageHours)} h of operation (limit ${BACKUP_MAX_AGE_HOURS} h).`,
      },
      now,
    );
  else if (latest) await clearAlert(deps, BACKUP_STALE_RULE_KEY, `Verified backup ${latest.fileName}`);
  return { stale, ageHours: latest ? ageHours : null };
}
