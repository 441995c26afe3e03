// Backups to an S3-compatible store, against a real S3-protocol server on 127.0.0.1 (s3rver, on a
// free port) through the official AWS SDK: the backup job uploads the checked archive (the same
// bytes, under BACKUP_S3_PREFIX), the record says where it is, the restore check fetches it from
// the store once the local file is gone, retention deletes old objects, and a wrong key or a
// missing bucket is a FAILED run with a clear error and the `backup.failed` alert, not a crash.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { backupObjectUrl, listBackups, runBackup, verifyLatestRestore } from "@steward/core/backups";
import { s3ObjectStore } from "@steward/core/adapters/s3";
import { backupS3Settings, type Env, loadEnv } from "@steward/core/env";
import type { EventBus } from "@steward/core/ports/events";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupJob, backupSettings } from "../../worker/src/jobs/backup.ts";
import type { JobContext } from "../../worker/src/jobs/definition.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import type { TestDatabase } from "../support/database.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";
import { quietDeps } from "../support/deps.ts";

const BUCKET = "steward-backups";
const KEY_ID = "S3RVER"; // s3rver's built-in credentials
const SECRET = "S3RVER";

let api: TestApi;
let database: TestDatabase;
let server: S3rver;
let endpoint: string;
let storeDir: string;
let backupDir: string;
let s3: S3Client;
let env: Env;

const noEvents: EventBus = {
  publish: () => undefined,
  subscribe: () => {
    throw new Error("not subscribed in this test");
  },
};

function envWith(overrides: Record<string, string> = {}): Env {
  return loadEnv({
    DATABASE_URL: database.url,
    LOG_LEVEL: "silent",
    BACKUP_DIR: backupDir,
    BACKUP_KEEP: "5",
    BACKUP_S3_ENDPOINT: endpoint,
    BACKUP_S3_BUCKET: BUCKET,
    BACKUP_S3_REGION: "us-east-1",
    BACKUP_S3_ACCESS_KEY_ID: KEY_ID,
    BACKUP_S3_SECRET_ACCESS_KEY: SECRET,
    BACKUP_S3_PREFIX: "steward/",
    BACKUP_S3_KEEP: "2",
    ...overrides,
  });
}

async function objectBytes(key: string): Promise<Buffer> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await Body!.transformToByteArray());
}

async function objectKeys(): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (listed.Contents ?? []).map((object) => object.Key!).sort();
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  api = await startTestApi();
  database = api.database;
  storeDir = mkdtempSync(join(tmpdir(), "steward-s3rver-"));
  backupDir = mkdtempSync(join(tmpdir(), "steward-backups-s3-"));
  server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: storeDir,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  s3 = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
  });
  env = envWith();
  // Money to count: a region, a business and two payments, one with its placement.
  const region = await database.db.region.create({ data: { slug: "s3-region", name: "S3 region" } });
  const business = await database.db.business.create({
    data: { regionId: region.id, name: "Trainer", email: "trainer@example.com" },
  });
  for (const [index, status] of (["SUCCEEDED", "REFUNDED"] as const).entries()) {
    const payment = await database.db.payment.create({
      data: {
        stripeChargeId: `ch_s3_${index}`,
        businessId: business.id,
        amountCents: 2200,
        currency: "aud",
        status,
        purchasedAt: new Date(),
      },
    });
    if (index === 0)
      await database.db.placement.create({
        data: {
          businessId: business.id,
          regionId: region.id,
          paymentId: payment.id,
          status: "ACTIVE",
          purchasedAt: new Date(),
        },
      });
  }
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await server?.close();
  await api?.stop();
  rmSync(storeDir, { recursive: true, force: true });
  rmSync(backupDir, { recursive: true, force: true });
});

describe("BACKUP_S3_* settings", () => {
  it("come all together or not at all", () => {
    expect(backupS3Settings(loadEnv({}))).toBeNull();
    expect(() => loadEnv({ BACKUP_S3_BUCKET: BUCKET })).toThrow(
      /BACKUP_S3_ENDPOINT, BACKUP_S3_ACCESS_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY: required once any BACKUP_S3_\* is set/,
    );
    expect(() => loadEnv({ BACKUP_S3_PREFIX: "steward/" })).toThrow(/BACKUP_S3_BUCKET/);
    expect(backupS3Settings(env)).toEqual({
      endpoint,
      bucket: BUCKET,
      region: "us-east-1",
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      prefix: "steward/",
      keep: 2,
    });
  });
});

describe("the S3 object store adapter", () => {
  it("uploads a large file in parts, streams it back down, and deletes it", async () => {
    const store = s3ObjectStore({ ...backupS3Settings(env)!, prefix: "adapter/", partSizeBytes: 5 * 2 ** 20 });
    const dir = mkdtempSync(join(tmpdir(), "steward-s3-adapter-"));
    try {
      const bytes = randomBytes(11 * 2 ** 20 + 123); // over the part size: a multipart upload of three parts
      writeFileSync(join(dir, "big.dump"), bytes);
      const key = store.keyFor("big.dump");
      expect(await store.upload(key, join(dir, "big.dump"))).toEqual({ bucket: BUCKET, key, sizeBytes: bytes.length });
      await store.download(key, join(dir, "back.dump"));
      expect(sha256(readFileSync(join(dir, "back.dump")))).toBe(sha256(bytes));
      await store.delete(key);
      expect(await objectKeys()).not.toContain(key);
      await expect(store.download(key, join(dir, "gone.dump"))).rejects.toThrow(
        new RegExp(`^S3 download of s3://${BUCKET}/adapter/big.dump failed: NoSuchKey`),
      );
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("a backup with an S3-compatible store", () => {
  it("uploads the checked archive: the object holds the dump's bytes, and the record says where", async () => {
    const context = { deps: { ...quietDeps(database.db), events: noEvents, env } } as unknown as JobContext;
    const outcome = await backupJob.handler(context, {});
    const [made] = await database.db.backup.findMany({ orderBy: { startedAt: "desc" }, take: 1 });
    expect(made).toMatchObject({
      status: "SUCCEEDED",
      objectBucket: BUCKET,
      objectKey: `steward/${made!.fileName}`,
      moneyCounts: { Payment: 2, Placement: 1 },
    });
    expect(made!.uploadedAt).not.toBeNull();
    expect(outcome.summary).toContain(`uploaded to s3://${BUCKET}/steward/${made!.fileName}`);

    const local = readFileSync(join(backupDir, made!.fileName));
    const stored = await objectBytes(made!.objectKey!);
    expect(stored.length).toBe(Number(made!.sizeBytes));
    expect(stored.length).toBe(local.length);
    expect(sha256(stored)).toBe(sha256(local));
    expect(made!.sha256).toBe(sha256(local));

    const [listed] = await listBackups(database.db);
    expect(listed).toMatchObject({ id: made!.id, objectKey: made!.objectKey, objectBucket: BUCKET });
    expect(backupObjectUrl(listed!)).toBe(`s3://${BUCKET}/steward/${made!.fileName}`);
    // The Health page's list says where it is.
    await createOperator(database.db, "VIEWER", "vera@test.example");
    const cookie = await api.loginCookie("vera@test.example", TEST_PASSWORD);
    const page = await api.graphql<{
      backups: { fileName: string; objectUrl: string | null; uploadedAt: string | null; sha256: string | null }[];
    }>(`{ backups(limit: 1) { fileName objectUrl uploadedAt sha256 } }`, {}, { cookie });
    expect(page.data?.backups).toEqual([
      {
        fileName: made!.fileName,
        objectUrl: `s3://${BUCKET}/steward/${made!.fileName}`,
        uploadedAt: made!.uploadedAt!.toISOString(),
        sha256: made!.sha256,
      },
    ]);
  }, 60_000);

  it("the restore check fetches the archive from the store when its local file is gone", async () => {
    const newest = await database.db.backup.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
    rmSync(join(backupDir, newest.fileName));
    const settings = backupSettings(env);
    try {
      const check = await verifyLatestRestore(quietDeps(database.db), settings);
      expect(check).toMatchObject({ backupId: newest.id, ok: true, restored: { Payment: 2, Placement: 1 } });
      expect(check.detail).toContain(`from s3://${BUCKET}/steward/${newest.fileName}`);
    } finally {
      settings.objectStore?.close();
    }
    // The downloaded copy is not left behind.
    expect(readdirSync(backupDir)).toEqual([]);
    const recorded = await database.db.backup.findUniqueOrThrow({ where: { id: newest.id } });
    expect(recorded).toMatchObject({ restoreOk: true });
  }, 60_000);

  it("refuses a copy from the store that is not the archive written", async () => {
    const newest = await database.db.backup.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
    await database.db.backup.update({ where: { id: newest.id }, data: { sha256: "0".repeat(64) } });
    const settings = backupSettings(env);
    try {
      const check = await verifyLatestRestore(quietDeps(database.db), settings);
      expect(check.ok).toBe(false);
      expect(check.detail).toMatch(/does not match the archive written \(SHA-256 [0-9a-f]{64}, written 0{64}\)/);
    } finally {
      settings.objectStore?.close();
      await database.db.backup.update({ where: { id: newest.id }, data: { sha256: newest.sha256 } });
    }
  }, 60_000);

  it("keeps BACKUP_S3_KEEP objects: older ones are deleted from the store, their records say so", async () => {
    const settings = backupSettings(env);
    try {
      await runBackup(quietDeps(database.db), settings);
      await runBackup(quietDeps(database.db), settings);
    } finally {
      settings.objectStore?.close();
    }
    const all = await database.db.backup.findMany({ where: { status: "SUCCEEDED" }, orderBy: { startedAt: "desc" } });
    expect(all).toHaveLength(3);
    expect(await objectKeys()).toEqual([all[0]!.objectKey, all[1]!.objectKey].sort());
    expect(all[2]!.objectDeletedAt).not.toBeNull();
    expect(all.slice(0, 2).every((backup) => backup.objectDeletedAt === null)).toBe(true);
  }, 60_000);

  it.each([
    ["a wrong access key", { BACKUP_S3_ACCESS_KEY_ID: "NOT-A-KEY" }, /InvalidAccessKeyId/],
    ["a missing bucket", { BACKUP_S3_BUCKET: "no-such-bucket" }, /NoSuchBucket/],
  ])(
    "with %s: a FAILED run with a clear error and the backup.failed alert, not a crash",
    async (_, overrides, code) => {
      const objectsBefore = await objectKeys();
      const settings = backupSettings(envWith(overrides));
      try {
        await expect(runBackup(quietDeps(database.db), settings)).rejects.toThrow(code);
      } finally {
        settings.objectStore?.close();
      }
      const failed = await database.db.backup.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
      expect(failed).toMatchObject({ status: "FAILED", objectKey: null, verifiedAt: null });
      expect(failed.error).toMatch(new RegExp(`^S3 upload to s3://[a-z-]+/steward/${failed.fileName} failed: `));
      expect(failed.error).toMatch(code);
      expect(readdirSync(backupDir)).not.toContain(failed.fileName);
      expect(await objectKeys()).toEqual(objectsBefore);
      const alert = await database.db.alert.findUniqueOrThrow({ where: { fingerprint: "backup.failed" } });
      expect(alert).toMatchObject({ severity: "YELLOW", status: "FIRING", ruleKey: "backup.failed" });
      expect(alert.detail).toContain(failed.fileName);
      expect(alert.detail).toMatch(code);

      // The next good backup resolves it.
      const good = backupSettings(env);
      try {
        await runBackup(quietDeps(database.db), good);
      } finally {
        good.objectStore?.close();
      }
      expect((await database.db.alert.findUniqueOrThrow({ where: { id: alert.id } })).status).toBe("RESOLVED");
    },
    60_000,
  );
});
