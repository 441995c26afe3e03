// `npm run bench -- --scale small|full`: every benchmark against a freshly built database.
import { cpus, totalmem } from "node:os";
import { createPrismaClient } from "@steward/db/client";
import { dropDatabase, migrate, recreateDatabase } from "../../scripts/lib/database.ts";
import { benchCatalog } from "./catalog.ts";
import { benchFanout } from "./fanout.ts";
import { benchFloor } from "./floor.ts";
import { benchLoad } from "./load.ts";
import { benchOverview } from "./overview.ts";
import { benchPlacements } from "./placements.ts";
import { benchReconciliation } from "./reconciliation.ts";
import { benchRetention } from "./retention.ts";
import { benchBulk, benchReviews } from "./reviews.ts";
import { benchReviewSearch } from "./reviewSearch.ts";
import { benchWebhooks } from "./webhooks.ts";
import { printTable, writeResults } from "./table.ts";

const scaleArg = process.argv.includes("--scale") ? process.argv[process.argv.indexOf("--scale") + 1] : "small";
if (scaleArg !== "small" && scaleArg !== "full") {
  console.error("--scale must be small or full");
  process.exit(1);
}
const scales = {
  small: {
    reviews: 100_000,
    bulk: 10_000,
    queue: { rate: 100, seconds: 5 },
    searchReviews: 100_000,
    webhookEvents: 2_000,
    fanoutSubscribers: 200,
    placements: { regions: 1_000, active: 5_000, queued: 20_000 },
    load: { seconds: 10, rate: 25 },
    overview: {
      payments: 50_000,
      reviews: 50_000,
      searches: 250_000,
      businesses: 2_000,
      regions: 100,
      roundSeconds: 1,
    },
    reconciliation: [10_000],
    floor: { reviews: 10_000, seconds: 1, rounds: 3, connections: 32 },
    retentionJobRuns: 100_000,
    catalog: 10_000,
  },
  full: {
    reviews: 1_000_000,
    bulk: 10_000,
    queue: { rate: 500, seconds: 10 },
    searchReviews: 1_000_000,
    webhookEvents: 20_000,
    fanoutSubscribers: 2_000,
    placements: { regions: 10_000, active: 50_000, queued: 200_000 },
    load: { seconds: 60, rate: 25 },
    overview: {
      payments: 1_000_000,
      reviews: 1_000_000,
      searches: 5_000_000,
      businesses: 20_000,
      regions: 500,
      roundSeconds: 3,
    },
    reconciliation: [100_000, 1_000_000],
    floor: { reviews: 100_000, seconds: 10, rounds: 3, connections: 32 },
    retentionJobRuns: 1_000_000,
    catalog: 100_000,
  },
} as const;
// `--only overview` (or webhooks, reviews (bulk alone: bulk), search, placements, reconciliation, retention, catalog, fanout, load, floor) runs one benchmark.
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
// `--floor-seconds 5`: longer floor rounds than the scale's (small's 1 s rounds are noisy on a busy machine).
const floorSeconds = process.argv.includes("--floor-seconds")
  ? Number(process.argv[process.argv.indexOf("--floor-seconds") + 1])
  : undefined;
const wanted = (name: string) => only === undefined || only === name;

const url = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward");
url.pathname = `/steward_bench_${process.pid}`; // one per run: two checkouts may bench at once
await recreateDatabase(url.toString());
migrate(url.toString());
const db = createPrismaClient(url.toString(), 4);
try {
  console.log(
    `Scale ${scaleArg} on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  );
  const rows = [
    ...(wanted("webhooks") ? await benchWebhooks(db, url.toString(), scales[scaleArg].webhookEvents) : []),
    ...(wanted("reviews") ? await benchReviews(db, url.toString(), scales[scaleArg]) : []),
    ...(only === "bulk" ? await benchBulk(db, scales[scaleArg]) : []),
    // Its own businesses and reviews; after `reviews`, whose rows it searches too.
    ...(wanted("search") ? await benchReviewSearch(db, url.toString(), scales[scaleArg].searchReviews) : []),
    ...(wanted("placements") ? await benchPlacements(db, scales[scaleArg].placements) : []),
    ...(wanted("reconciliation") ? await benchReconciliation(db, url.toString(), scales[scaleArg].reconciliation) : []),
    ...(wanted("catalog") ? await benchCatalog(db, url.toString(), scales[scaleArg].catalog) : []),
    ...(wanted("overview") ? await benchOverview(db, url.toString(), scales[scaleArg].overview) : []),
    // Each hot operation beside a bare Yoga + Pothos + pg server (floor.ts), pinned cores, closed loop.
    ...(wanted("floor")
      ? await benchFloor(db, url.toString(), {
          ...scales[scaleArg].floor,
          seconds: floorSeconds ?? scales[scaleArg].floor.seconds,
        })
      : []),
    ...(wanted("retention") ? await benchRetention(db, scales[scaleArg].retentionJobRuns) : []),
    ...(wanted("fanout") ? await benchFanout(db, url.toString(), scales[scaleArg].fanoutSubscribers) : []),
    // Its own seeded database and API/worker processes; the figures above are not disturbed.
    ...(wanted("load") ? await benchLoad(url.toString(), scales[scaleArg].load) : []),
  ];
  printTable(rows);
  console.log(`\nWritten to ${writeResults(scaleArg, rows)}`);
} finally {
  await db.$disconnect();
  await dropDatabase(url.toString());
}
