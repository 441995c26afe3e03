// The overview at size: the dashboard's `Overview` document's p50/p99, throughput and CPU per
// request over HTTP with 1,000,000 payments, 1,000,000 reviews and 5,000,000 search events (full
// scale), beside the same server answering a trivial query, and beside the bare floor server
// answering both, in the same rounds; the metrics rollup (first full build, then the incremental
// minute run); and the weekly checkup's wall time at that size.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { systemActor } from "@steward/core/actor";
import { runWeeklyCheckup } from "@steward/core/checkup";
import { loadEnv } from "@steward/core/env";
import { scheduledJobsOf } from "@steward/core/jobHealth";
import { jobContracts } from "@steward/jobs/contracts";
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { hashPassword } from "@steward/core/passwords";
import type { Db } from "@steward/db/client";
import Stripe from "stripe";
import { stripeGateway } from "@steward/core/adapters/stripe";
import { startStripeSandbox } from "../../sandbox/src/stripe/server.ts";
import { benchProcessEnv, signIn } from "./api.ts";
import { startNodeProcess, stopNodeProcess } from "./load.ts";
import { cpuMs, runLoadgen, twoCores } from "./pinned.ts";
import { dashboardOperations } from "../../tests/support/dashboard-documents.ts";
import { waitForHttp } from "../../scripts/lib/run.ts";
import { freePort } from "../../scripts/lib/services.ts";
import { BENCH_RATE_LIMITS } from "./env.ts";
import { type BenchRow, medianIndex, spread } from "./table.ts";

export interface OverviewScale {
  payments: number;
  reviews: number;
  searches: number;
  businesses: number;
  regions: number;
  /** Each round loads the trivial query, then the overview, for this long. */
  roundSeconds: number;
}

const PASSWORD = "bench-overview-password";

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

/** Set-based seed: businesses across regions, payments over 3 years, reviews, searches over a year. */
async function seed(db: Db, scale: OverviewScale): Promise<void> {
  await db.$executeRawUnsafe(`
    INSERT INTO "Region" (id, slug, name, "featuredSlots")
    SELECT uuid_generate_v7(), 'bench-region-' || g, 'Bench region ' || g, 5 FROM generate_series(1, ${scale.regions}) g`);
  await db.$executeRawUnsafe(`
    INSERT INTO "Business" (id, "regionId", name, email)
    SELECT uuid_generate_v7(), r.id, 'Bench business ' || g, 'b' || g || '@example.com'
      FROM generate_series(1, ${scale.businesses}) g
      JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM "Region") r ON r.n = g % ${scale.regions}`);
  // Payments: one every few minutes over 3 years; 4 % refunded, 1 % failed; 1 in 50 in USD.
  await db.$executeRawUnsafe(`
    WITH b AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM "Business")
    INSERT INTO "Payment" (id, "stripeChargeId", "businessId", "amountCents", "refundedCents", currency, status, "purchasedAt", "updatedAt")
    SELECT uuid_generate_v7(), 'ch_bench_' || g, b.id, 2200,
           CASE WHEN g % 25 = 0 THEN 2200 ELSE 0 END,
           CASE WHEN g % 50 = 0 THEN 'usd' ELSE 'aud' END,
           (CASE WHEN g % 25 = 0 THEN 'REFUNDED' WHEN g % 100 = 1 THEN 'FAILED' ELSE 'SUCCEEDED' END)::"PaymentStatus",
           now() - ((g::float / ${scale.payments}) * interval '1095 days'), now() - interval '1 hour'
      FROM generate_series(1, ${scale.payments}) g JOIN b ON b.n = g % ${scale.businesses}`);
  // The last 60 days of succeeded payments have placements: 5 active per region, the rest queued.
  await db.$executeRawUnsafe(`
    INSERT INTO "Placement" (id, "businessId", "regionId", "paymentId", status, "purchasedAt", "activatedAt", "featuredUntil")
    SELECT uuid_generate_v7(), p."businessId", b."regionId", p.id,
           (CASE WHEN row_number() OVER (PARTITION BY b."regionId" ORDER BY p."purchasedAt") <= 5 THEN 'ACTIVE' ELSE 'QUEUED' END)::"PlacementStatus",
           p."purchasedAt", NULL, NULL
      FROM "Payment" p JOIN "Business" b ON b.id = p."businessId"
     WHERE p.status = 'SUCCEEDED' AND p."purchasedAt" > now() - interval '60 days'`);
  await db.$executeRawUnsafe(`
    UPDATE "Placement" SET "activatedAt" = "purchasedAt", "featuredUntil" = now() + interval '10 days' WHERE status = 'ACTIVE'`);
  // Reviews: 1 % still pending (the moderation queue), the rest decided.
  await db.$executeRawUnsafe(`
    WITH b AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM "Business")
    INSERT INTO "Review" (id, "businessId", rating, body, source, status, "aiConfidence", "createdAt")
    SELECT uuid_generate_v7(), b.id, 1 + g % 5, 'Bench review ' || g, 'bench',
           (CASE WHEN g % 100 = 0 THEN 'PENDING' WHEN g % 10 = 0 THEN 'REJECTED' ELSE 'APPROVED' END)::"ReviewStatus",
           0.9, now() - ((g::float / ${scale.reviews}) * interval '730 days')
      FROM generate_series(1, ${scale.reviews}) g JOIN b ON b.n = g % ${scale.businesses}`);
  await db.$executeRawUnsafe(`
    INSERT INTO "SearchEvent" (id, query, "resultCount", source, "occurredAt")
    SELECT uuid_generate_v7(), 'puppy training', g % 20, 'bench', now() - ((g::float / ${scale.searches}) * interval '365 days')
      FROM generate_series(1, ${scale.searches}) g`);
  await db.$executeRawUnsafe(`
    INSERT INTO "Alert" (id, fingerprint, "ruleKey", severity, title, detail)
    SELECT uuid_generate_v7(), 'bench:' || g, 'bench', (CASE WHEN g % 3 = 0 THEN 'RED' ELSE 'YELLOW' END)::"Severity",
           'Bench alert ' || g, 'bench' FROM generate_series(1, 20) g`);
  await db.$executeRawUnsafe(`VACUUM ANALYZE`);
}

// The dashboard's Overview document exactly as the browser sends it (web/src, read at run time).
const OVERVIEW = (() => {
  const source = dashboardOperations().find((operation) => operation.name === "Overview")?.source;
  if (!source) throw new Error("overview bench: the dashboard has no Overview operation");
  return source;
})();
const TRIVIAL = `query { __typename }`;
const ROUNDS = 5;
const CONNECTIONS = 8;
// The API rolls the metrics up again in a request when its snapshot is older than this; in
// production the worker's minute job keeps it fresh. The rounds measure the request.
const METRICS_MAX_AGE_SECONDS = "3600";

interface Round {
  p50: number;
  p99: number;
  perSecond: number;
  cpuPerRequest: number;
}

/** One closed-loop round from the load generator's process, with the API's CPU per request read from /proc. */
async function round(apiPid: number, baseUrl: string, cookie: string, query: string, seconds: number, dir: string) {
  const before = cpuMs(apiPid);
  const result = await runLoadgen(
    {
      baseUrl,
      seconds,
      connections: CONNECTIONS,
      requests: [
        { path: "/graphql", headers: { "content-type": "application/json", cookie }, body: JSON.stringify({ query }) },
      ],
    },
    dir,
  );
  const cpu = cpuMs(apiPid) - before;
  // Latencies of failed requests are not a figure of the query: stop rather than print them.
  if (result.errors > 0) {
    throw new Error(
      `overview bench: ${result.errors} of ${result.requests} requests failed, first: ${result.firstError}`,
    );
  }
  return {
    p50: result.p50,
    p99: result.p99,
    perSecond: result.requests / result.seconds,
    cpuPerRequest: cpu / Math.max(1, result.requests),
  } satisfies Round;
}

export async function benchOverview(db: Db, databaseUrl: string, scale: OverviewScale): Promise<BenchRow[]> {
  const seeded = await time(() => seed(db, scale));
  console.log(`  overview: seeded in ${(seeded.ms / 1000).toFixed(1)} s`);
  const sandbox = await startStripeSandbox({ port: 0, rateLimitPerSecond: false });
  const env = loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: `bench-overview-${process.pid}`,
    ...BENCH_RATE_LIMITS,
    API_PORT: "0",
    STRIPE_API_KEY: sandbox.apiKey,
    STRIPE_API_HOST: "127.0.0.1",
    STRIPE_API_PORT: String(sandbox.port),
    STRIPE_API_PROTOCOL: "http",
  });
  const settings = metricsSettings(env);
  const rows: BenchRow[] = [];
  const full = await time(() => rollupMetrics({ db, settings }));
  await db.payment.updateMany({
    where: { stripeChargeId: { in: ["ch_bench_2", "ch_bench_3"] } },
    data: { status: "REFUNDED", refundedCents: 2200 },
  });
  const incremental = await time(() => rollupMetrics({ db, settings }));
  rows.push(
    {
      name: `metrics rollup, first full build (${scale.payments} payments, ${scale.searches} searches)`,
      value: full.ms,
      unit: "ms",
    },
    { name: "metrics rollup, incremental minute run (2 payments changed)", value: incremental.ms, unit: "ms" },
  );

  await db.operator.create({
    data: { email: "bench@steward.test", name: "Bench", role: "OPERATOR", passwordHash: await hashPassword(PASSWORD) },
  });
  // The API in its own process on core 0, the load generator in another on core 1 (pinned.ts), as
  // in the floor bench: in one process the client's parsing of each answer was charged to the query.
  // Beside it, on the same core and data, the bare floor server (floor/server.ts: Yoga + Pothos +
  // pg, core's same overview statement, no auth) answers the same two documents: what any server
  // of this stack pays for this document against `{ __typename }`.
  const apiPort = await freePort();
  const floorPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const floorUrl = `http://127.0.0.1:${floorPort}`;
  const apiEnv = { ...benchProcessEnv(databaseUrl, "overview-api", apiPort), METRICS_MAX_AGE_SECONDS };
  const pin = twoCores ? { cpus: "0" } : {};
  const api = startNodeProcess("api/src/main.ts", apiEnv, "api", pin);
  const floor = startNodeProcess(
    "bench/src/floor/server.ts",
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: apiEnv.REDIS_URL,
      REDIS_PREFIX: `bench-overview-floor-${process.pid}`,
      FLOOR_PORT: String(floorPort),
      FLOOR_SCHEDULED_JOBS: JSON.stringify(scheduledJobsOf(jobContracts(loadEnv(apiEnv)))),
    },
    "floor",
    pin,
  );
  const dir = mkdtempSync(join(tmpdir(), "steward-overview-"));
  try {
    await Promise.all([waitForHttp(`${apiUrl}/readyz`), waitForHttp(`${floorUrl}/readyz`)]);
    const cookie = await signIn(apiUrl, "bench@steward.test", PASSWORD);
    const sides = [
      { pid: api.pid!, url: apiUrl },
      { pid: floor.pid!, url: floorUrl },
    ];
    // Warm every path, then measure them back to back, five rounds (issue 17: median and spread).
    for (const side of sides) {
      await round(side.pid, side.url, cookie, OVERVIEW, 1, dir);
      await round(side.pid, side.url, cookie, TRIVIAL, 1, dir);
    }
    const rounds: { trivial: Round; overview: Round; floorTrivial: Round; floorOverview: Round }[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      const trivial = await round(api.pid!, apiUrl, cookie, TRIVIAL, scale.roundSeconds, dir);
      const overview = await round(api.pid!, apiUrl, cookie, OVERVIEW, scale.roundSeconds, dir);
      const floorTrivial = await round(floor.pid!, floorUrl, cookie, TRIVIAL, scale.roundSeconds, dir);
      const floorOverview = await round(floor.pid!, floorUrl, cookie, OVERVIEW, scale.roundSeconds, dir);
      rounds.push({ trivial, overview, floorTrivial, floorOverview });
    }
    const p50Ratios = rounds.map((r) => r.overview.p50 / r.trivial.p50);
    const middle = rounds[medianIndex(p50Ratios)]!;
    const floorP50Ratios = rounds.map((r) => r.floorOverview.p50 / r.floorTrivial.p50);
    const floorMiddle = rounds[medianIndex(floorP50Ratios)]!;
    const floorRatios = rounds.map((r) => r.overview.perSecond / r.floorOverview.perSecond);
    const pinning = twoCores
      ? "API on core 0, load generator on core 1"
      : "NOT pinned: one core or no taskset, API and load generator share it";
    const label = `${scale.payments} payments, ${scale.reviews} reviews, ${scale.searches} searches; the dashboard's Overview document; ${CONNECTIONS} connections, closed loop, ${scale.roundSeconds} s rounds, ${pinning}; the round with the median p50 ratio of ${ROUNDS}`;
    rows.push(
      {
        name: `overview query p50 (${label}; errors 0)`,
        value: middle.overview.p50,
        unit: "ms",
        floor: middle.trivial.p50,
        floorName: "trivial query, same server",
        note: `ratio spread ${spread(p50Ratios)}× over ${ROUNDS} rounds (overview p50 ${spread(
          rounds.map((r) => r.overview.p50),
          1,
        )} ms)`,
      },
      {
        name: "overview query p99",
        value: middle.overview.p99,
        unit: "ms",
        floor: middle.trivial.p99,
        floorName: "trivial query, same server",
      },
      {
        name: "overview query throughput",
        value: middle.overview.perSecond,
        unit: "req/s",
        floor: middle.trivial.perSecond,
        floorName: "trivial query, same server",
      },
      {
        name: "overview query, API CPU per request",
        value: middle.overview.cpuPerRequest,
        unit: "ms",
        floor: middle.trivial.cpuPerRequest,
        floorName: "trivial query, same server",
      },
      {
        name: `the bare floor server (Yoga + Pothos + pg, the same statement, no auth): overview p50 beside its own trivial query`,
        value: floorMiddle.floorOverview.p50,
        unit: "ms",
        floor: floorMiddle.floorTrivial.p50,
        floorName: "trivial query, floor server",
        note: `ratio spread ${spread(floorP50Ratios)}× over ${ROUNDS} rounds; CPU per request ${floorMiddle.floorOverview.cpuPerRequest.toFixed(2)} ms vs ${floorMiddle.floorTrivial.cpuPerRequest.toFixed(2)} ms`,
      },
      {
        name: "overview throughput, the API beside the floor server",
        value: middle.overview.perSecond,
        unit: "req/s",
        floor: middle.floorOverview.perSecond,
        floorName: "floor server, same round",
        note: `API/floor throughput spread ${spread(floorRatios)}× over ${ROUNDS} rounds`,
      },
    );
    const checkup = await time(() =>
      runWeeklyCheckup(
        {
          db,
          settings,
          stripe: stripeGateway(
            new Stripe(sandbox.apiKey, { host: "127.0.0.1", port: sandbox.port, protocol: "http" }),
          ),
          ai: { mode: "deterministic", timeoutMs: 1000 },
        },
        systemActor("bench"),
        "MANUAL",
      ),
    );
    rows.push({
      name: `weekly checkup wall time (${checkup.result.findings.length} checks; overall ${checkup.result.report.overall})`,
      value: checkup.ms,
      unit: "ms",
    });
  } finally {
    await Promise.all([stopNodeProcess(api), stopNodeProcess(floor)]);
    rmSync(dir, { recursive: true, force: true });
    await sandbox.stop();
  }
  return rows;
}
