// Featured placements: each region has a number of slots (5 by default); a purchase becomes
// active at once when a slot is free and nobody is waiting, otherwise it joins the region's FIFO
// queue ordered by (purchasedAt, id). Nobody jumps the queue. Every change to a region's slots
// happens under a lock on that region's row, so concurrent purchases, refunds and the daily job
// never double-book a slot.
import type { Db, DbTx, Placement } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { InvalidInputError, NotFoundError } from "./errors.ts";
import { assertOperatorCan } from "./permissions.ts";
import type { CoreDeps } from "./deps.ts";

export const FEATURED_DAYS = 30;
const DAY_MS = 86_400_000;

async function lockRegion(tx: DbTx, regionId: string): Promise<{ featuredSlots: number }> {
  const rows = await tx.$queryRaw<{ featuredSlots: number }[]>`
    SELECT "featuredSlots" FROM "Region" WHERE id = ${regionId}::uuid FOR UPDATE`;
  const region = rows[0];
  if (!region) throw new NotFoundError("Region", regionId);
  return region;
}

export interface Purchase {
  businessId: string;
  regionId: string;
  paymentId: string;
  purchasedAt: Date;
}

/**
 * The call site for a paid purchase (webhook or reconciliation import). Idempotent per payment:
 * a redelivered event returns the placement it already created.
 */
export async function placePurchase(tx: DbTx, purchase: Purchase, now = new Date()): Promise<Placement> {
  const existing = await tx.placement.findUnique({ where: { paymentId: purchase.paymentId } });
  if (existing) return existing;
  const region = await lockRegion(tx, purchase.regionId);
  const [active, waiting] = await Promise.all([
    tx.placement.count({ where: { regionId: purchase.regionId, status: "ACTIVE" } }),
    tx.placement.count({ where: { regionId: purchase.regionId, status: "QUEUED" } }),
  ]);
  const activeNow = active < region.featuredSlots && waiting === 0;
  return tx.placement.create({
    data: {
      businessId: purchase.businessId,
      regionId: purchase.regionId,
      paymentId: purchase.paymentId,
      purchasedAt: purchase.purchasedAt,
      status: activeNow ? "ACTIVE" : "QUEUED",
      ...(activeNow ? { activatedAt: now, featuredUntil: new Date(now.getTime() + FEATURED_DAYS * DAY_MS) } : {}),
    },
  });
}

/** Fills a region's free slots from the head of its queue. Call with the region locked. */
async function promote(tx: DbTx, regionId: string, featuredSlots: number, now: Date): Promise<Placement[]> {
  const active = await tx.placement.count({ where: { regionId, status: "ACTIVE" } });
  const free = featuredSlots - active;
  if (free <= 0) return [];
  const next = await tx.placement.findMany({
    where: { regionId, status: "QUEUED" },
    orderBy: [{ purchasedAt: "asc" }, { id: "asc" }],
    take: free,
  });
  const promoted: Placement[] = [];
  for (const placement of next) {
    promoted.push(
      await tx.placement.update({
        where: { id: placement.id },
        data: { status: "ACTIVE", activatedAt: now, featuredUntil: new Date(now.getTime() + FEATURED_DAYS * DAY_MS) },
      }),
    );
  }
  return promoted;
}

/**
 * ADMIN only: how many featured slots a region has. Never below the placements active now; new
 * slots are filled from the queue at once rather than at the next daily run.
 */
export async function setRegionSlots(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: { regionId: string; slots: number },
): Promise<void> {
  const { db } = deps;
  const { regionId, slots } = input;
  const now = deps.clock();
  assertOperatorCan(actor, "administer");
  if (!Number.isInteger(slots) || slots < 1 || slots > 100) throw new InvalidInputError("Slots must be 1–100", "slots");
  await db.$transaction(async (tx) => {
    const region = await lockRegion(tx, regionId);
    const active = await tx.placement.count({ where: { regionId, status: "ACTIVE" } });
    if (slots < active)
      throw new InvalidInputError(`${active} placements are active; slots cannot go below that`, "slots");
    await tx.region.update({ where: { id: regionId }, data: { featuredSlots: slots } });
    const promoted = await promote(tx, regionId, slots, now);
    await recordAudit(tx, actor, {
      action: "region.setSlots",
      targetType: "Region",
      targetId: regionId,
      before: { featuredSlots: region.featuredSlots },
      after: { featuredSlots: slots, promoted: promoted.map((placement) => placement.id) },
    });
  });
}

export interface Release {
  placement: Placement | null;
  freedSlot: boolean;
  promoted: Placement[];
}

/** A refunded purchase: an active placement frees its slot (the queue advances); a queued one leaves the queue. */
export async function releaseForRefund(tx: DbTx, paymentId: string, now = new Date()): Promise<Release> {
  const placement = await tx.placement.findUnique({ where: { paymentId } });
  if (!placement || placement.status === "REFUNDED" || placement.status === "EXPIRED") {
    return { placement, freedSlot: false, promoted: [] };
  }
  const region = await lockRegion(tx, placement.regionId);
  const wasActive = placement.status === "ACTIVE";
  const updated = await tx.placement.update({
    where: { id: placement.id },
    data: { status: "REFUNDED", endedAt: now },
  });
  const promoted = wasActive ? await promote(tx, placement.regionId, region.featuredSlots, now) : [];
  return { placement: updated, freedSlot: wasActive, promoted };
}

export interface RegionChange {
  regionId: string;
  regionName: string;
  expired: number;
  promoted: number;
}

/**
 * The daily job's work: expire placements past featuredUntil and promote FIFO until every
 * region's slots are full. Set-based (three statements whatever the number of regions), in one
 * transaction holding every affected region's lock. Running it again right after changes nothing.
 */
export async function expireAndPromote(db: Db, now = new Date()): Promise<RegionChange[]> {
  const featuredUntil = new Date(now.getTime() + FEATURED_DAYS * DAY_MS);
  return db.$transaction(
    async (tx) => {
      // Lock regions in id order (no deadlock with placePurchase, which locks one region).
      await tx.$queryRaw`SELECT id FROM "Region" ORDER BY id FOR UPDATE`;
      const expired = await tx.$queryRaw<{ regionId: string }[]>`
        UPDATE "Placement" SET status = 'EXPIRED', "endedAt" = ${now}
         WHERE status = 'ACTIVE' AND "featuredUntil" <= ${now}
     RETURNING "regionId"`;
      const promoted = await tx.$queryRaw<{ regionId: string }[]>`
        WITH active AS (
          SELECT "regionId", count(*)::int AS n FROM "Placement" WHERE status = 'ACTIVE' GROUP BY "regionId"
        ), ranked AS (
          SELECT p.id, p."regionId",
                 row_number() OVER (PARTITION BY p."regionId" ORDER BY p."purchasedAt", p.id) AS position
            FROM "Placement" p WHERE p.status = 'QUEUED'
        ), chosen AS (
          SELECT ranked.id FROM ranked
            JOIN "Region" r ON r.id = ranked."regionId"
            LEFT JOIN active a ON a."regionId" = ranked."regionId"
           WHERE ranked.position <= r."featuredSlots" - coalesce(a.n, 0)
        )
        UPDATE "Placement" p SET status = 'ACTIVE', "activatedAt" = ${now}, "featuredUntil" = ${featuredUntil}
          FROM chosen WHERE p.id = chosen.id
      RETURNING p."regionId"`;
      const byRegion = new Map<string, { expired: number; promoted: number }>();
      for (const row of expired) {
        const entry = byRegion.get(row.regionId) ?? { expired: 0, promoted: 0 };
        entry.expired++;
        byRegion.set(row.regionId, entry);
      }
      for (const row of promoted) {
        const entry = byRegion.get(row.regionId) ?? { expired: 0, promoted: 0 };
        entry.promoted++;
        byRegion.set(row.regionId, entry);
      }
      if (byRegion.size === 0) return [];
      const regions = await tx.region.findMany({
        where: { id: { in: [...byRegion.keys()] } },
        select: { id: true, name: true },
      });
      const names = new Map(regions.map((region) => [region.id, region.name]));
      return [...byRegion.entries()]
        .map(([regionId, change]) => ({ regionId, regionName: names.get(regionId) ?? regionId, ...change }))
        .sort((a, b) => a.regionName.localeCompare(b.regionName));
    },
    { timeout: 300_000 },
  );
}

export function describeChanges(changes: readonly RegionChange[]): string {
  if (changes.length === 0) return "nothing to expire or promote";
  const total = (key: "expired" | "promoted") => changes.reduce((sum, change) => sum + change[key], 0);
  const detail = changes
    .slice(0, 5)
    .map((change) => `${change.regionName}: expired ${change.expired}, promoted ${change.promoted}`)
    .join("; ");
  return `expired ${total("expired")}, promoted ${total("promoted")} in ${changes.length} region(s) — ${detail}${changes.length > 5 ? "; …" : ""}`;
}

export interface QueueAnswer {
  status: "ACTIVE" | "QUEUED" | "NOT_FEATURED";
  regionId: string | null;
  /** 1-based position in the region's queue, when queued. */
  position: number | null;
  businessesAhead: { businessId: string; name: string; purchasedAt: Date }[];
  featuredUntil: Date | null;
  /** When the business is expected to become active: from the active placements' expiry times. */
  estimatedActivation: Date | null;
}

/**
 * Simulates the queue: each slot frees at its placement's expiry; whoever is next takes it for
 * FEATURED_DAYS. The k-th entry's ETA is the k-th slot to free up in that simulation.
 */
export function estimateActivations(
  activeExpiries: readonly Date[],
  queueLength: number,
  slots: number,
  now: Date,
): Date[] {
  const frees = [...activeExpiries.map((date) => date.getTime())];
  while (frees.length < slots) frees.push(now.getTime()); // free slots (should not happen with a queue)
  frees.sort((a, b) => a - b);
  const etas: Date[] = [];
  for (let index = 0; index < queueLength; index++) {
    const next = Math.max(frees.shift() ?? now.getTime(), now.getTime());
    etas.push(new Date(next));
    // Insert the newly activated placement's own expiry, keeping the list sorted.
    const expiry = next + FEATURED_DAYS * DAY_MS;
    const at = frees.findIndex((time) => time > expiry);
    frees.splice(at === -1 ? frees.length : at, 0, expiry);
  }
  return etas;
}

export async function queuePosition(db: DbTx, businessId: string, now = new Date()): Promise<QueueAnswer> {
  const business = await db.business.findUnique({ where: { id: businessId } });
  if (!business) throw new NotFoundError("Business", businessId);
  const active = await db.placement.findFirst({
    where: { businessId, status: "ACTIVE" },
    orderBy: { featuredUntil: "desc" },
  });
  if (active) {
    return {
      status: "ACTIVE",
      regionId: active.regionId,
      position: null,
      businessesAhead: [],
      featuredUntil: active.featuredUntil,
      estimatedActivation: active.activatedAt,
    };
  }
  const queued = await db.placement.findFirst({
    where: { businessId, status: "QUEUED" },
    orderBy: [{ purchasedAt: "asc" }, { id: "asc" }],
  });
  if (!queued) {
    return {
      status: "NOT_FEATURED",
      regionId: business.regionId,
      position: null,
      businessesAhead: [],
      featuredUntil: null,
      estimatedActivation: null,
    };
  }
  const [ahead, actives, region] = await Promise.all([
    db.placement.findMany({
      where: {
        regionId: queued.regionId,
        status: "QUEUED",
        OR: [{ purchasedAt: { lt: queued.purchasedAt } }, { purchasedAt: queued.purchasedAt, id: { lt: queued.id } }],
      },
      orderBy: [{ purchasedAt: "asc" }, { id: "asc" }],
      include: { business: { select: { name: true } } },
    }),
    db.placement.findMany({ where: { regionId: queued.regionId, status: "ACTIVE" }, select: { featuredUntil: true } }),
    db.region.findUniqueOrThrow({ where: { id: queued.regionId } }),
  ]);
  const etas = estimateActivations(
    actives.map((placement) => placement.featuredUntil ?? now),
    ahead.length + 1,
    region.featuredSlots,
    now,
  );
  return {
    status: "QUEUED",
    regionId: queued.regionId,
    position: ahead.length + 1,
    businessesAhead: ahead.map((placement) => ({
      businessId: placement.businessId,
      name: placement.business.name,
      purchasedAt: placement.purchasedAt,
    })),
    featuredUntil: null,
    estimatedActivation: etas[etas.length - 1] ?? null,
  };
}

export interface ConsistencyFinding {
  kind: "DOUBLE_BOOKED" | "OUT_OF_ORDER";
  regionId: string;
  detail: string;
}

/** For the weekly checkup: more actives than slots, or someone waiting longer than an active placement bought later. */
export async function checkPlacementConsistency(db: Db): Promise<ConsistencyFinding[]> {
  const overbooked = await db.$queryRaw<{ regionId: string; name: string; active: number; slots: number }[]>`
    SELECT r.id AS "regionId", r.name, count(p.id)::int AS active, r."featuredSlots" AS slots
      FROM "Region" r JOIN "Placement" p ON p."regionId" = r.id AND p.status = 'ACTIVE'
     GROUP BY r.id HAVING count(p.id) > r."featuredSlots"`;
  const outOfOrder = await db.$queryRaw<{ regionId: string; name: string; waiting: number }[]>`
    SELECT r.id AS "regionId", r.name, count(DISTINCT q.id)::int AS waiting
      FROM "Placement" q
      JOIN "Placement" a ON a."regionId" = q."regionId" AND a.status = 'ACTIVE'
                        AND (a."purchasedAt", a.id) > (q."purchasedAt", q.id) AND a."activatedAt" > q."purchasedAt"
      JOIN "Region" r ON r.id = q."regionId"
     WHERE q.status = 'QUEUED'
     GROUP BY r.id`;
  return [
    ...overbooked.map((row) => ({
      kind: "DOUBLE_BOOKED" as const,
      regionId: row.regionId,
      detail: `${row.name}: ${row.active} active for ${row.slots} slots`,
    })),
    ...outOfOrder.map((row) => ({
      kind: "OUT_OF_ORDER" as const,
      regionId: row.regionId,
      detail: `${row.name}: ${row.waiting} queued placement(s) overtaken by a later purchase`,
    })),
  ];
}
