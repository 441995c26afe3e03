// The daily expiry-and-promotion at scale: many regions, active placements (some expired) and a
// long queue. Printed with the number of SQL statements it took, beside one hand-written
// set-based statement doing the same promotion on an identical copy of the data.
import { performance } from "node:perf_hooks";
import { expireAndPromote } from "@steward/core/placements";
import type { Db } from "@steward/db/client";
import type { BenchRow } from "./table.ts";

export interface PlacementScale {
  regions: number;
  active: number;
  queued: number;
}

async function build(db: Db, scale: PlacementScale, now: Date): Promise<void> {
  await db.$executeRawUnsafe(`TRUNCATE "Placement", "Payment", "Business", "Region" CASCADE`);
  await db.$executeRawUnsafe(
    `INSERT INTO "Region" (id, slug, name, "featuredSlots") SELECT uuid_generate_v7(), 'r' || g, 'Region ' || g, 5 FROM generate_series(1, ${scale.regions}) g`,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO "Business" (id, "regionId", name, email)
     SELECT uuid_generate_v7(), r.id, r.name || ' business ' || g, 'b' || g || '@example.com'
       FROM "Region" r CROSS JOIN generate_series(1, ${Math.ceil((scale.active + scale.queued) / scale.regions)}) g`,
  );
  // Per region: 5 active (about a fifth of them expired), then the rest queued by purchase time.
  const nowSql = `'${now.toISOString()}'::timestamptz`;
  await db.$executeRawUnsafe(
    `INSERT INTO "Placement" (id, "businessId", "regionId", status, "purchasedAt", "activatedAt", "featuredUntil")
     SELECT uuid_generate_v7(), b.id, b."regionId",
            CASE WHEN b.rn <= ${scale.active / scale.regions} THEN 'ACTIVE'::"PlacementStatus" ELSE 'QUEUED'::"PlacementStatus" END,
            ${nowSql} - ((1000 - b.rn) || ' hours')::interval,
            CASE WHEN b.rn <= ${scale.active / scale.regions} THEN ${nowSql} - interval '20 days' END,
            CASE WHEN b.rn <= ${scale.active / scale.regions} THEN ${nowSql} + ((b.rn * 7 % 12) - 2 || ' days')::interval END
       FROM (SELECT id, "regionId", row_number() OVER (PARTITION BY "regionId" ORDER BY id) rn FROM "Business") b
      WHERE b.rn <= ${(scale.active + scale.queued) / scale.regions}`,
  );
  await db.$executeRawUnsafe(`ANALYZE "Placement"`);
}

export async function benchPlacements(db: Db, scale: PlacementScale): Promise<BenchRow[]> {
  const now = new Date();
  await build(db, scale, now);
  const started = performance.now();
  const changes = await expireAndPromote(db, now);
  const ms = performance.now() - started;
  const expired = changes.reduce((sum, change) => sum + change.expired, 0);
  const promoted = changes.reduce((sum, change) => sum + change.promoted, 0);

  await build(db, scale, now);
  const floorStarted = performance.now();
  await db.$executeRawUnsafe(`
    WITH expired AS (
      UPDATE "Placement" SET status = 'EXPIRED', "endedAt" = now()
       WHERE status = 'ACTIVE' AND "featuredUntil" <= now() RETURNING id
    ), still_active AS (
      SELECT "regionId", count(*) AS n FROM "Placement"
       WHERE status = 'ACTIVE' AND "featuredUntil" > now() GROUP BY "regionId"
    ), ranked AS (
      SELECT id, "regionId", row_number() OVER (PARTITION BY "regionId" ORDER BY "purchasedAt", id) AS position
        FROM "Placement" WHERE status = 'QUEUED'
    ), chosen AS (
      SELECT ranked.id FROM ranked
        JOIN "Region" r ON r.id = ranked."regionId"
        LEFT JOIN still_active a ON a."regionId" = ranked."regionId"
       WHERE ranked.position <= r."featuredSlots" - coalesce(a.n, 0)
    )
    UPDATE "Placement" p SET status = 'ACTIVE', "activatedAt" = now(), "featuredUntil" = now() + interval '30 days'
      FROM chosen WHERE p.id = chosen.id`);
  const floorMs = performance.now() - floorStarted;
  // Statements expireAndPromote issues whatever the size: lock regions, expire, promote, read names.
  const statements = 4;
  return [
    {
      name: `expiry-and-promotion: ${scale.regions} regions, ${scale.active} active, ${scale.queued} queued (expired ${expired}, promoted ${promoted}, ${statements} SQL statements)`,
      value: ms,
      unit: "ms",
      floor: floorMs,
      floorName: "one set-based SQL statement",
    },
  ];
}
