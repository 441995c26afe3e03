// Featured placements: the per-region FIFO queue, refunds freeing slots, and the daily
// expiry-and-promotion run (correct across regions, idempotent, safe when run twice at once).
import {
  checkPlacementConsistency,
  expireAndPromote,
  placePurchase,
  releaseForRefund,
  setRegionSlots,
} from "@steward/core/placements";
import { systemActor } from "@steward/core/actor";
import { InvalidInputError } from "@steward/core/errors";
import type { Db } from "@steward/db/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

let database: TestDatabase;
let db: Db;
const DAY = 86_400_000;
const now = new Date("2026-11-23T02:00:00Z");
const daysAgo = (days: number) => new Date(now.getTime() - days * DAY);

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.drop());

let sequence = 0;
async function region(slots = 5) {
  sequence++;
  return db.region.create({ data: { slug: `r${sequence}`, name: `Region ${sequence}`, featuredSlots: slots } });
}
async function purchase(regionId: string, purchasedAt: Date) {
  sequence++;
  const business = await db.business.create({
    data: { regionId, name: `Business ${sequence}`, email: `b${sequence}@example.com` },
  });
  const payment = await db.payment.create({
    data: {
      stripeChargeId: `ch_${sequence}`,
      businessId: business.id,
      amountCents: 2200,
      currency: "aud",
      status: "SUCCEEDED",
      purchasedAt,
    },
  });
  return db.$transaction((tx) =>
    placePurchase(tx, { businessId: business.id, regionId, paymentId: payment.id, purchasedAt }, purchasedAt),
  );
}

describe("buying a placement", () => {
  it("activates while slots are free, then queues; a redelivered purchase returns the same placement", async () => {
    const { id } = await region(2);
    const first = await purchase(id, daysAgo(5));
    const second = await purchase(id, daysAgo(4));
    const third = await purchase(id, daysAgo(3));
    expect([first.status, second.status, third.status]).toEqual(["ACTIVE", "ACTIVE", "QUEUED"]);
    const again = await db.$transaction((tx) =>
      placePurchase(tx, {
        businessId: third.businessId,
        regionId: id,
        paymentId: third.paymentId!,
        purchasedAt: third.purchasedAt,
      }),
    );
    expect(again.id).toBe(third.id);
    expect(await db.placement.count({ where: { regionId: id } })).toBe(3);
  });

  it("frees an active slot on refund and promotes the earliest purchase, not the earliest insert", async () => {
    const { id } = await region(1);
    const active = await purchase(id, daysAgo(10));
    const later = await purchase(id, daysAgo(2));
    const earlier = await purchase(id, daysAgo(6)); // inserted last, bought earlier: goes first
    const release = await db.$transaction((tx) => releaseForRefund(tx, active.paymentId!, now));
    expect(release.freedSlot).toBe(true);
    expect(release.promoted.map((placement) => placement.id)).toEqual([earlier.id]);
    expect((await db.placement.findUniqueOrThrow({ where: { id: later.id } })).status).toBe("QUEUED");
  });

  it("takes a refunded queued placement out of the queue without touching the actives", async () => {
    const { id } = await region(1);
    const active = await purchase(id, daysAgo(3));
    const queued = await purchase(id, daysAgo(2));
    const release = await db.$transaction((tx) => releaseForRefund(tx, queued.paymentId!, now));
    expect(release).toMatchObject({ freedSlot: false, promoted: [] });
    expect((await db.placement.findUniqueOrThrow({ where: { id: active.id } })).status).toBe("ACTIVE");
    expect((await db.placement.findUniqueOrThrow({ where: { id: queued.id } })).status).toBe("REFUNDED");
  });
});

describe("the daily expiry-and-promotion run", () => {
  it("expires and promotes per region, FIFO, and a second run changes nothing", async () => {
    await db.placement.deleteMany({});
    const melbourne = await region(2);
    const yarra = await region(1);
    const expiring = [await purchase(melbourne.id, daysAgo(40)), await purchase(melbourne.id, daysAgo(39))];
    const waiting = [
      await purchase(melbourne.id, daysAgo(20)),
      await purchase(melbourne.id, daysAgo(15)),
      await purchase(melbourne.id, daysAgo(10)),
    ];
    const yarraActive = await purchase(yarra.id, daysAgo(35));
    await db.placement.updateMany({
      where: { id: { in: [...expiring, yarraActive].map((placement) => placement.id) } },
      data: { featuredUntil: daysAgo(1) },
    });

    const changes = await expireAndPromote(db, now);
    expect(changes.map(({ regionName, expired, promoted }) => ({ regionName, expired, promoted }))).toEqual([
      { regionName: melbourne.name, expired: 2, promoted: 2 },
      { regionName: yarra.name, expired: 1, promoted: 0 },
    ]);
    const statuses = await db.placement.findMany({
      where: { id: { in: waiting.map((placement) => placement.id) } },
      orderBy: { purchasedAt: "asc" },
    });
    expect(statuses.map((placement) => placement.status)).toEqual(["ACTIVE", "ACTIVE", "QUEUED"]);
    expect(await expireAndPromote(db, now)).toEqual([]);
    expect(await checkPlacementConsistency(db)).toEqual([]);
  });

  it("never double-books when two runs happen at once", async () => {
    await db.placement.deleteMany({});
    const busy = await region(3);
    const actives = [
      await purchase(busy.id, daysAgo(40)),
      await purchase(busy.id, daysAgo(39)),
      await purchase(busy.id, daysAgo(38)),
    ];
    for (let index = 0; index < 6; index++) await purchase(busy.id, daysAgo(30 - index));
    await db.placement.updateMany({
      where: { id: { in: actives.map((placement) => placement.id) } },
      data: { featuredUntil: daysAgo(1) },
    });

    const [first, second] = await Promise.all([expireAndPromote(db, now), expireAndPromote(db, now)]);
    const promoted = [...first, ...second].reduce((sum, change) => sum + change.promoted, 0);
    expect(promoted).toBe(3);
    expect(await db.placement.count({ where: { regionId: busy.id, status: "ACTIVE" } })).toBe(3);
    expect(await checkPlacementConsistency(db)).toEqual([]);
  });
});

describe("more slots", () => {
  it("fills new slots from the queue at once, in purchase order", async () => {
    const { id } = await region(1);
    await purchase(id, daysAgo(9));
    const second = await purchase(id, daysAgo(8));
    const third = await purchase(id, daysAgo(7));
    await setRegionSlots({ db, clock: () => now }, systemActor("test"), { regionId: id, slots: 2 });
    const active = await db.placement.findMany({
      where: { regionId: id, status: "ACTIVE" },
      orderBy: { purchasedAt: "asc" },
    });
    expect(active.map((placement) => placement.id)).toContain(second.id);
    expect(await db.auditEvent.count({ where: { action: "region.setSlots", targetId: id } })).toBe(1);
    await expect(
      setRegionSlots({ db, clock: () => now }, systemActor("test"), { regionId: id, slots: 1 }),
    ).rejects.toThrow(InvalidInputError);
    expect((await db.region.findUniqueOrThrow({ where: { id } })).featuredSlots).toBe(2);
    expect((await db.placement.findUniqueOrThrow({ where: { id: third.id } })).status).toBe("QUEUED");
  });
});
