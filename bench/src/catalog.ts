// Catalog import at scale: N businesses imported through core's importCatalog (the path of
// `npm run steward -- import` and the GraphQL importCatalog), then the same N again unchanged,
// each beside its floor measured in the same run: a bare COPY of the same rows into a table of the
// same shape (no validation, no merge). The re-import should write nothing (WHERE changed).
import { performance } from "node:perf_hooks";
import { systemActor } from "@steward/core/actor";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { type CatalogLine, copyText, importCatalog } from "@steward/core/catalog";
import { databaseConnectionOptions, type Db } from "@steward/db/client";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { finished } from "node:stream/promises";
import type { BenchRow } from "./table.ts";

const REGIONS = 50;

function lines(count: number): CatalogLine[] {
  return Array.from({ length: count }, (_, index) => ({
    line: index + 2,
    fields: {
      externalId: `bench-business-${index}`,
      regionId: `bench-region-${index % REGIONS}`,
      name: `Bench Dog School ${index}`,
      email: `owner${index}@bench.example`,
    },
  }));
}

/** The floor: the same rows, COPYed as they are into an unindexed table like Business's columns. */
async function bareCopy(databaseUrl: string, rows: readonly CatalogLine[]): Promise<number> {
  const client = new pg.Client(databaseConnectionOptions(databaseUrl));
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS bench_catalog_copy`);
    await client.query(
      `CREATE TABLE bench_catalog_copy ("externalId" text, "regionExternalId" text, name text, email text)`,
    );
    const started = performance.now();
    const copy = client.query(copyFrom(`COPY bench_catalog_copy FROM STDIN (FORMAT text)`));
    let chunk = "";
    for (const row of rows) {
      if (!("fields" in row)) continue;
      const { externalId, regionId, name, email } = row.fields as Record<string, string>;
      chunk += `${copyText(externalId ?? "")}\t${copyText(regionId ?? "")}\t${copyText(name ?? "")}\t${copyText(email ?? "")}\n`;
      if (chunk.length > 256 * 1024) {
        copy.write(chunk);
        chunk = "";
      }
    }
    copy.end(chunk);
    await finished(copy);
    const ms = performance.now() - started;
    await client.query(`DROP TABLE bench_catalog_copy`);
    return ms;
  } finally {
    await client.end();
  }
}

export async function benchCatalog(db: Db, databaseUrl: string, businesses: number): Promise<BenchRow[]> {
  for (let index = 0; index < REGIONS; index++)
    await db.region.create({
      data: { externalId: `bench-region-${index}`, slug: `bench-region-${index}`, name: `Bench region ${index}` },
    });
  const rows = lines(businesses);
  const actor = systemActor("bench");
  const deps = { db, copyIn: pgCopyIn(databaseUrl) };
  const floorMs = await bareCopy(databaseUrl, rows);
  let started = performance.now();
  const first = await importCatalog(deps, actor, rows);
  const importMs = performance.now() - started;
  started = performance.now();
  const again = await importCatalog(deps, actor, rows);
  const reimportMs = performance.now() - started;
  if (first.created !== businesses || again.unchanged !== businesses)
    throw new Error(`catalog bench: created ${first.created}, then unchanged ${again.unchanged} of ${businesses}`);
  console.log(
    `catalog: ${businesses} businesses imported in ${importMs.toFixed(0)} ms, re-imported unchanged in ${reimportMs.toFixed(0)} ms; bare COPY ${floorMs.toFixed(0)} ms`,
  );
  // The next benchmarks seed regions and businesses of their own (with the same slugs).
  await db.$executeRawUnsafe(`TRUNCATE "Business", "Region" CASCADE`);
  const floorName = "bare COPY of the same rows";
  return [
    {
      name: `catalog import: ${businesses} businesses (validate, COPY to staging, one upsert)`,
      value: importMs,
      unit: "ms",
      floor: floorMs,
      floorName,
    },
    {
      name: `catalog re-import, unchanged: ${businesses} businesses (nothing written)`,
      value: reimportMs,
      unit: "ms",
      floor: floorMs,
      floorName,
    },
  ];
}
