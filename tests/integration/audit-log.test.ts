// The audit log is append-only at the database itself: even code (or a person with SQL access)
// that bypasses core cannot rewrite or erase history.
import { systemActor } from "@steward/core/actor";
import { recordAudit } from "@steward/core/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
let eventId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await recordAudit(database.db, systemActor("audit-log-test"), {
    action: "flag.switch",
    targetType: "Flag",
    targetId: "AI_MODE",
    before: { value: "provider" },
    after: { value: "deterministic" },
    reason: "provider down for 30 minutes",
  });
  eventId = (await database.db.auditEvent.findFirstOrThrow({ where: { action: "flag.switch" } })).id;
});
afterAll(() => database.drop());

async function snapshot() {
  return database.db.auditEvent.findMany({ orderBy: { id: "asc" } });
}

describe("AuditEvent", () => {
  it("refuses UPDATE in raw SQL and leaves the row unchanged", async () => {
    const before = await snapshot();
    await expect(
      database.db.$executeRawUnsafe(
        `UPDATE "AuditEvent" SET "action" = 'nothing.happened', "reason" = NULL WHERE "id" = $1::uuid`,
        eventId,
      ),
    ).rejects.toThrow(/append-only/);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses DELETE in raw SQL, even of every row, and keeps them all", async () => {
    const before = await snapshot();
    await expect(
      database.db.$executeRawUnsafe(`DELETE FROM "AuditEvent" WHERE "id" = $1::uuid`, eventId),
    ).rejects.toThrow(/append-only/);
    await expect(database.db.$executeRawUnsafe(`DELETE FROM "AuditEvent"`)).rejects.toThrow(/append-only/);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses updates and deletes through the Prisma client too", async () => {
    const before = await snapshot();
    await expect(
      database.db.auditEvent.update({ where: { id: eventId }, data: { reason: "edited" } }),
    ).rejects.toThrow();
    await expect(database.db.auditEvent.deleteMany({})).rejects.toThrow();
    expect(await snapshot()).toEqual(before);
  });

  it("still accepts new events (append)", async () => {
    const count = await database.db.auditEvent.count();
    await recordAudit(database.db, systemActor("audit-log-test"), {
      action: "flag.switch",
      targetType: "Flag",
      targetId: "AI_MODE",
    });
    expect(await database.db.auditEvent.count()).toBe(count + 1);
  });
});
