// The Stripe webhook endpoint under load (it must only verify, store and enqueue), beside a bare
// HTTP endpoint on the same machine, and the time from a signed charge.succeeded to an active
// placement through the whole path (sandbox Stripe → webhook → job → re-fetch → placement).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import type { Db } from "@steward/db/client";
import Stripe from "stripe";
import { buildApp } from "../../api/src/app.ts";
import { startStripeSandbox } from "../../sandbox/src/stripe/server.ts";
import { jobCatalog } from "../../worker/src/registry.ts";
import { buildWorker } from "../../worker/src/worker.ts";
import type { BenchRow } from "./table.ts";

const SECRET = "whsec_steward_sandbox";

interface LoadResult {
  p50: number;
  p99: number;
  perSecond: number;
  errors: number;
}

async function load(
  url: string,
  bodies: readonly { payload: string; header: string }[],
  concurrency: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const sent = performance.now();
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "stripe-signature": body.header },
          body: body.payload,
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - sent);
        if (response.status !== 200) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (quantile: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * quantile))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), perSecond: bodies.length / seconds, errors };
}

export async function benchWebhooks(db: Db, databaseUrl: string, events: number): Promise<BenchRow[]> {
  const stripe = new Stripe("sk_test_steward_sandbox");
  const bodies = Array.from({ length: events }, (_, index) => {
    const payload = JSON.stringify({
      id: `evt_bench_${index}_${Date.now()}`,
      object: "event",
      type: "charge.succeeded",
      api_version: "2025-01-01",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `ch_bench_${index}`, object: "charge" } },
    });
    return { payload, header: stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) };
  });

  const sandbox = await startStripeSandbox({ port: 0, webhookSecret: SECRET, rateLimitPerSecond: false });
  const env = loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: `bench-${process.pid}`,
    API_PORT: "0",
    STRIPE_API_KEY: "sk_test_steward_sandbox",
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_API_HOST: "127.0.0.1",
    STRIPE_API_PORT: String(sandbox.port),
    STRIPE_API_PROTOCOL: "http",
    // Every benchmark delivery comes from 127.0.0.1: the per-address limit has its own test.
    STRIPE_WEBHOOKS_PER_ADDRESS: "100000000",
  });
  const app = buildApp(env, createLogger("bench", "silent"));
  const apiUrl = await app.start();

  const bare = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;

  const rows: BenchRow[] = [];
  try {
    const floor = await load(bareUrl, bodies, 32);
    const endpoint = await load(`${apiUrl}/webhooks/stripe`, bodies, 32);
    rows.push(
      {
        name: `webhook endpoint p50 (${events} signed events, 32 concurrent; errors ${endpoint.errors})`,
        value: endpoint.p50,
        unit: "ms",
        floor: floor.p50,
        floorName: "bare HTTP endpoint",
      },
      {
        name: "webhook endpoint p99",
        value: endpoint.p99,
        unit: "ms",
        floor: floor.p99,
        floorName: "bare HTTP endpoint",
      },
      {
        name: "webhook endpoint throughput",
        value: endpoint.perSecond,
        unit: "events/s",
        floor: floor.perSecond,
        floorName: "bare HTTP endpoint",
      },
    );

    // The whole path, once the queue of benchmark events has been cleared away.
    await db.$executeRawUnsafe(`TRUNCATE "StripeWebhookEvent"`);
    const worker = buildWorker(env, createLogger("bench-worker", "silent"), jobCatalog(env));
    await worker.queues.obliterate();
    await worker.start();
    sandbox.configureWebhooks({ url: `${apiUrl}/webhooks/stripe`, secret: SECRET });
    const region = await db.region.create({ data: { slug: `e2e-${Date.now()}`, name: "End to end" } });
    const business = await db.business.create({
      data: { regionId: region.id, name: "Timed Dog School", email: "t@example.com" },
    });
    const client = new Stripe("sk_test_steward_sandbox", { host: "127.0.0.1", port: sandbox.port, protocol: "http" });
    const started = performance.now();
    await client.charges.create({ amount: 2200, currency: "aud", metadata: { business_id: business.id } });
    while (!(await db.placement.findFirst({ where: { businessId: business.id, status: "ACTIVE" } }))) {
      if (performance.now() - started > 30_000) throw new Error("no active placement after 30 s");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    rows.push({
      name: "signed charge.succeeded → active placement (end to end)",
      value: performance.now() - started,
      unit: "ms",
    });
    await worker.stop();
  } finally {
    await app.stop();
    await sandbox.stop();
    await new Promise<void>((resolve) => bare.close(() => resolve()));
  }
  return rows;
}
