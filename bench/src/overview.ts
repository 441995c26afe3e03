// The overview at size: the `overview` query's p50/p99 and throughput over HTTP with 1,000,000
// payments, 1,000,000 reviews and 5,000,000 search events (full scale), beside the same server
// answering a trivial query in the same run; the metrics rollup (first full build, then the
// incremental minute run); and the weekly checkup's wall time at that size.
import { performance } from "node:perf_hooks";
import { systemActor } from "@steward/core/actor";
import { runWeeklyCheckup } from "@steward/core/checkup";
import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { hashPassword } from "@steward/core/passwords";
import type { Db } from "@steward/db/client";
import Stripe from "stripe";
import { stripeGateway } from "@steward/core/adapters/stripe";
import { buildApp } from "../../api/src/app.ts";
import { startStripeSandbox } from "../../sandbox/src/stripe/server.ts";
import { signIn } from "./api.ts";
import { BENCH_RATE_LIMITS } from "./env.ts";
import { type BenchRow, medianIndex, spread } from "./table.ts";

export interface OverviewScale {
  payments: number;
  reviews: number;
  searches: number;
  businesses: number;
  regions: number;
  requests: number;
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

interface LoadResult {
  p50: number;
  p99: number;
  perSecond: number;
  errors: number;
  firstError?: string;
}

async function load(url: string, cookie: string, query: string, requests: number, concurrency: number) {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) {
        const sent = performance.now();
        const response = await fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", cookie },
          body: JSON.stringify({ query }),
        });
        const body = (await response.json()) as { errors?: unknown };
        latencies.push(performance.now() - sent);
        if (response.status !== 200 || body.errors) {
          errors++;
          firstError ??= `HTTP ${response.status} ${JSON.stringify(body.errors ?? body).slice(0, 200)}`;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (quantile: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * quantile))] ?? 0;
  // Latencies of failed requests are not a figure of the query: stop rather than print them.
  if (errors > 0) throw new Error(`overview bench: ${errors} of ${requests} requests failed, first: ${firstError}`);
  return { p50: at(0.5), p99: at(0.99), perSecond: requests / seconds, errors } satisfies LoadResult;
}

const OVERVIEW = `query {
  overview {
    status
    openAlerts { id severity title }
    recentAlerts { id title }
    pendingTasks { kind count estimatedMinutes }
    health { check state }
    lastCheckup { id overall }
    metrics {
      computedAt
      revenue { currency mtd { netCents change } wtd { netCents change } ltm { netCents change } projectedMonthEndCents daily { day value } }
      featuredAdoption { rate }
      queueBacklog { total regions(first: 5) { name queued } }
      refundRate { rate }
      searchVolume { averagePerDay change daily { day value } }
      aiProvider { costThisMonthCents }
      jobs { failing }
      stripe { api { state } }
    }
  }
}`;
const TRIVIAL = `query { __typename }`;
const ROUNDS = 5;

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
  const app = buildApp(env, createLogger("bench", "silent"));
  const url = await app.start();
  try {
    const cookie = await signIn(url, "bench@steward.test", PASSWORD);
    // Warm both paths, then measure them back to back, five rounds (issue 17: median and spread).
    await load(url, cookie, OVERVIEW, 20, 4);
    await load(url, cookie, TRIVIAL, 20, 4);
    const rounds: { trivial: LoadResult; overview: LoadResult }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const trivial = await load(url, cookie, TRIVIAL, scale.requests, 8);
      const overview = await load(url, cookie, OVERVIEW, scale.requests, 8);
      rounds.push({ trivial, overview });
    }
    const p50Ratios = rounds.map((round) => round.overview.p50 / round.trivial.p50);
    const middle = rounds[medianIndex(p50Ratios)]!;
    const label = `${scale.payments} payments, ${scale.reviews} reviews, ${scale.searches} searches; ${scale.requests} requests, 8 concurrent; the round with the median p50 ratio of ${ROUNDS}`;
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
    await app.stop();
    await sandbox.stop();
  }
  return rows;
}
