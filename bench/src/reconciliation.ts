// Reconciliation at scale: N charges in the Stripe sandbox (its own process, like Stripe is) against
// N payments, with 1 % of the charges seeded as each kind of discrepancy. Prints the run's wall time
// and peak memory beside the I/O floor measured in the same run: merely paging through the same
// charges with the SDK's auto-pagination. Run at two sizes, time should grow linearly and memory
// stay flat (pages stream into a staging table; neither side is held in memory).
import { performance } from "node:perf_hooks";
import { systemActor } from "@steward/core/actor";
import { createEventBus } from "@steward/core/adapters/redisEvents";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import { createReconciliationRun, executeReconciliationRun, SETTLE_MS } from "@steward/core/reconciliation/runs";
import type { Db } from "@steward/db/client";
import Stripe from "stripe";
import { stripeGateway } from "@steward/core/adapters/stripe";
import { startService, stopServices, waitForHttp } from "../../scripts/lib/run.ts";
import { freePort } from "../../scripts/lib/services.ts";
import { benchCoreDeps } from "./coreDeps.ts";
import type { BenchRow } from "./table.ts";

const API_KEY = "sk_test_steward_sandbox";
const SEED_CHUNK = 50_000;
const KINDS = ["MISSING_IN_DB", "MISSING_IN_STRIPE", "AMOUNT_MISMATCH", "CURRENCY_MISMATCH", "REFUND_MISMATCH"];

const chargeId = (i: number): string => `ch_bench${String(i).padStart(12, "0")}`;

/**
 * Samples RSS and heap while `work` runs; returns its wall time and the peaks above the start.
 * With --expose-gc (npm run bench passes it) it also collects every 250 ms and records the heap
 * that survives: the live memory, which is what must stay flat (the plain peak includes garbage
 * V8 has not collected yet, which grows with the allocation rate, not with the data).
 */
async function measured<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number; rssMb: number; heapMb: number; liveMb: number | null }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  let live = base.heapUsed;
  let ticks = 0;
  const sampler = setInterval(() => {
    if (gc && ++ticks % 12 === 0) {
      gc();
      live = Math.max(live, process.memoryUsage().heapUsed);
    }
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss);
    heap = Math.max(heap, now.heapUsed);
  }, 20);
  const started = performance.now();
  try {
    const result = await work();
    const mb = (bytes: number) => bytes / 2 ** 20;
    return {
      result,
      ms: performance.now() - started,
      rssMb: mb(rss - base.rss),
      heapMb: mb(heap - base.heapUsed),
      liveMb: gc ? mb(live - base.heapUsed) : null,
    };
  } finally {
    clearInterval(sampler);
  }
}

async function seed(db: Db, sandboxUrl: string, stripe: Stripe, count: number, fromSec: number, spanSec: number) {
  const createdOf = (i: number) => fromSec + Math.floor((i * spanSec) / count);
  for (let offset = 0; offset < count; offset += SEED_CHUNK) {
    const charges = [];
    for (let i = offset; i < Math.min(count, offset + SEED_CHUNK); i++) {
      if (i % 100 === 1) continue; // MISSING_IN_STRIPE: only ours
      charges.push({ id: chargeId(i), amount: 2200, currency: "aud", created: createdOf(i) });
    }
    const response = await fetch(`${sandboxUrl}/_sandbox/charges`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ charges, emitEvents: false, returnIds: false }),
    });
    if (!response.ok) throw new Error(`sandbox refused the seed: ${await response.text()}`);
  }
  // REFUND_MISMATCH: refunded at Stripe, not by us.
  const refunds: number[] = [];
  for (let i = 4; i < count; i += 100) refunds.push(i);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < refunds.length) await stripe.refunds.create({ charge: chargeId(refunds[next++]!) });
    }),
  );
  const region = await db.region.create({ data: { slug: `bench-recon-${Date.now()}`, name: "Bench" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: "Bench Dog School", email: "bench@example.com" },
  });
  // Ours: every charge but the MISSING_IN_DB ones, with AMOUNT_ and CURRENCY_MISMATCH seeded.
  await db.$executeRaw`
    INSERT INTO "Payment" (id, "stripeChargeId", "businessId", "amountCents", currency, status, "purchasedAt", "updatedAt")
    SELECT uuid_generate_v7(), 'ch_bench' || lpad(i::text, 12, '0'), ${business.id}::uuid,
           CASE WHEN i % 100 = 2 THEN 2000 ELSE 2200 END, CASE WHEN i % 100 = 3 THEN 'nzd' ELSE 'aud' END,
           'SUCCEEDED', to_timestamp(${fromSec}::bigint + (i::bigint * ${spanSec}::bigint) / ${count}::bigint) AT TIME ZONE 'UTC',
           now()
      FROM generate_series(0, ${count - 1}::int) AS i
     WHERE i % 100 <> 0`;
  await db.$executeRawUnsafe(`ANALYZE "Payment"`);
}

async function benchOne(db: Db, databaseUrl: string, count: number): Promise<BenchRow[]> {
  await db.$executeRawUnsafe(`TRUNCATE "Discrepancy", "ReconciliationRun", "Payment", "Placement" CASCADE`);
  const port = await freePort();
  const sandboxUrl = `http://127.0.0.1:${port}`;
  const sandbox = startService(
    "stripe-bench",
    "npx",
    ["tsx", "sandbox/src/stripe/main.ts"],
    { STRIPE_SANDBOX_PORT: String(port), STRIPE_SANDBOX_RATE_LIMIT: "off", NODE_OPTIONS: "--max-old-space-size=8192" },
    true,
  );
  const bus = createEventBus(process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0", `bench-recon-${process.pid}`);
  try {
    await waitForHttp(`${sandboxUrl}/_sandbox/health`);
    const stripe = new Stripe(API_KEY, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 2 });
    const toSec = Math.floor((Date.now() - SETTLE_MS) / 1000) - 60;
    const spanSec = 7 * 86_400;
    const fromSec = toSec - spanSec;
    const seedStarted = performance.now();
    await seed(db, sandboxUrl, stripe, count, fromSec, spanSec);
    const seedMs = performance.now() - seedStarted;

    // The floor: the same charges (the same range, margin included) paged through with the SDK.
    const floor = await measured(async () => {
      let seen = 0;
      for await (const charge of stripe.charges.list({
        created: { gte: fromSec - 3_600, lt: Math.floor(Date.now() / 1000) + 1 },
        limit: 100,
      })) {
        if (charge.id) seen++;
      }
      return seen;
    });
    const deps = { ...benchCoreDeps(db, bus.bus), copyIn: pgCopyIn(databaseUrl), stripe: stripeGateway(stripe) };
    const run = await measured(async () => {
      const created = await createReconciliationRun(
        deps,
        systemActor("bench"),
        { from: new Date(fromSec * 1000), to: new Date((toSec + 1) * 1000) },
        "MANUAL",
      );
      return (await executeReconciliationRun(deps, created.id)).run;
    });
    const byKind = await db.discrepancy.groupBy({ by: ["kind"], _count: true, where: { runId: run.result.id } });
    const counts = KINDS.map((kind) => `${byKind.find((row) => row.kind === kind)?._count ?? 0}`).join("/");
    const expected = KINDS.map(() => String(count / 100)).join("/");
    const size = count.toLocaleString("en-US");
    // A run that misses a seeded discrepancy (or invents one) has no time worth printing.
    if (counts !== expected) {
      console.error(`reconciliation bench: found ${counts}, expected ${expected}`);
      process.exitCode = 1;
    }
    return [
      {
        name: `reconcile ${size} charges vs ${size} payments (1 % of each kind seeded; found ${counts}, expected ${expected})`,
        value: run.ms,
        unit: "ms",
        floor: floor.ms,
        floorName: `SDK paging through ${floor.result.toLocaleString("en-US")} charges`,
        note: counts === expected ? `seeded in ${(seedMs / 1000).toFixed(0)} s` : "FAILED: discrepancies differ",
      },
      {
        name: `reconcile ${size}: peak heap above start`,
        value: run.heapMb,
        unit: "MiB",
        floor: floor.heapMb,
        floorName: "SDK paging",
        note: `peak RSS +${run.rssMb.toFixed(0)} MiB (paging +${floor.rssMb.toFixed(0)} MiB)`,
      },
      ...(run.liveMb !== null && floor.liveMb !== null
        ? [
            {
              name: `reconcile ${size}: peak live heap (after GC, every 250 ms) above start`,
              value: run.liveMb,
              unit: "MiB",
              floor: floor.liveMb,
              floorName: "SDK paging",
            },
          ]
        : []),
    ];
  } finally {
    await bus.close();
    await stopServices([sandbox]);
  }
}

export async function benchReconciliation(db: Db, databaseUrl: string, sizes: readonly number[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const size of sizes) rows.push(...(await benchOne(db, databaseUrl, size)));
  return rows;
}
