// `npx tsx bench/src/fanout-only.ts [--scale small|full]`: only the alert fan-out benchmark
// (run.ts runs it with the others), on its own fresh database.
import { createPrismaClient } from "@steward/db/client";
import { dropDatabase, migrate, recreateDatabase } from "../../scripts/lib/database.ts";
import { benchFanout } from "./fanout.ts";
import { printTable } from "./table.ts";

const full = process.argv.includes("--scale") && process.argv[process.argv.indexOf("--scale") + 1] === "full";
const url = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward");
url.pathname = `/steward_bench_fanout_${process.pid}`;
await recreateDatabase(url.toString());
migrate(url.toString());
const db = createPrismaClient(url.toString(), 4);
try {
  printTable(await benchFanout(db, url.toString(), full ? 2_000 : 200));
} finally {
  await db.$disconnect();
  await dropDatabase(url.toString());
}
