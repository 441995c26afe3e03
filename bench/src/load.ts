// The load run: a mixed operator + integration workload against the real API and worker (separate
// processes, as in production) at a fixed arrival rate. Open loop: request i is due at start + i/rate
// and its latency is counted from when it was due, so a slow server cannot hide its queueing
// (no coordinated omission). Reports p50/p99, errors (must be 0) and the API's resident memory
// before and after (sampled every second; the second half of the run must not keep growing).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createApiToken } from "@steward/core/apiTokens";
import { createPrismaClient } from "@steward/db/client";
import { DEMO_OPERATORS, DEMO_PASSWORD, seed } from "../../scripts/seed/demo.ts";
import { dropDatabase, migrate, recreateDatabase } from "../../scripts/lib/database.ts";
import { repoRoot, waitForHttp } from "../../scripts/lib/run.ts";
import { freePort } from "../../scripts/lib/services.ts";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { benchProcessEnv, signIn } from "./api.ts";
import type { BenchRow } from "./table.ts";

export interface LoadOptions {
  seconds: number;
  /** Requests per second, fixed. */
  rate: number;
}

/** One kind of request in the mix: its weight, and how to build it and judge its answer. */
interface Operation {
  name: string;
  weight: number;
  build(): { query: string; variables?: Record<string, unknown>; auth: "operator" | "integration" } | null;
  ok(data: Record<string, unknown>): boolean;
}

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

/**
 * A Steward process (api or worker) run by node itself, so its pid is the one whose memory we read;
 * `cpus` pins it to those cores with taskset (which execs node, so the pid is still node's).
 */
export function startNodeProcess(
  entry: string,
  env: NodeJS.ProcessEnv,
  label: string,
  options: { cpus?: string; nodeArgs?: string[] } = {},
): ChildProcess {
  const args = [...(options.nodeArgs ?? []), "--import", "tsx", entry];
  const [command, commandArgs] = options.cpus
    ? ["taskset", ["-c", options.cpus, process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, commandArgs, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    for (const line of chunk.split("\n")) if (line.trim()) process.stderr.write(`[${label}] ${line}\n`);
  });
  return child;
}

/** SIGTERM, then SIGKILL after 8 s; resolves once the process has exited. */
export function stopNodeProcess(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 8000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Resident set size of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

/**
 * Open loop at a fixed rate: `send(i, due)` for request i is started at start + i/rate whatever
 * the earlier answers are doing; resolves when every answer is in. Callers count latency from `due`.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  send: (index: number, due: number) => Promise<void>,
): Promise<{ total: number; elapsedSeconds: number }> {
  const total = Math.round(seconds * rate);
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(i, due));
  }
  await Promise.all(inFlight);
  return { total, elapsedSeconds: (performance.now() - start) / 1000 };
}

export async function benchLoad(baseDatabaseUrl: string, options: LoadOptions): Promise<BenchRow[]> {
  const url = new URL(baseDatabaseUrl);
  url.pathname = `/steward_bench_load_${process.pid}`;
  const databaseUrl = url.toString();
  await recreateDatabase(databaseUrl);
  migrate(databaseUrl);
  const db = createPrismaClient(databaseUrl, 2);
  await seed(db);
  const admin = await db.operator.findFirstOrThrow({ where: { role: "ADMIN" } });
  const token = (
    await createApiToken(
      { db },
      { kind: "OPERATOR", id: admin.id, email: admin.email, name: admin.name, role: admin.role },
      { name: "load-run", scopes: ["read", "reviews:write"] },
    )
  ).token;
  const businesses = (await db.business.findMany({ select: { id: true } })).map((b) => gid("Business", b.id));
  const pendingReviews = (await db.review.findMany({ where: { status: "PENDING" }, select: { id: true } })).map((r) =>
    gid("Review", r.id),
  );

  const port = await freePort();
  const env = benchProcessEnv(databaseUrl, "load", port);
  const api = startNodeProcess("api/src/main.ts", env, "api");
  const worker = startNodeProcess("worker/src/main.ts", env, "worker");
  const apiUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${apiUrl}/readyz`);
    const cookie = await signIn(apiUrl, DEMO_OPERATORS[1].email, DEMO_PASSWORD);

    let submitted = 0;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
    const typename = (value: unknown) => (value as { __typename?: string } | null)?.__typename;
    const operations: Operation[] = [
      {
        name: "operator: review queue page",
        weight: 25,
        build: () => ({
          auth: "operator",
          query: `{ reviews(first: 20) { edges { node { id body aiConfidence business { name } } } pageInfo { hasNextPage } } }`,
        }),
        ok: (data) => Array.isArray((data.reviews as { edges?: unknown })?.edges),
      },
      {
        name: "operator: queue stats",
        weight: 5,
        build: () => ({ auth: "operator", query: `{ reviewQueueStats { pending } }` }),
        ok: (data) => data.reviewQueueStats !== null,
      },
      {
        name: "operator: refund requests",
        weight: 10,
        build: () => ({
          auth: "operator",
          query: `{ refundRequests(first: 20) { edges { node { id status amountCents eligibility { eligible daysElapsed } } } } }`,
        }),
        ok: (data) => data.refundRequests !== null,
      },
      {
        name: "operator: payments",
        weight: 10,
        build: () => ({
          auth: "operator",
          query: `{ payments(first: 20) { edges { node { id amountCents currency purchasedAt } } } }`,
        }),
        ok: (data) => data.payments !== null,
      },
      {
        name: "operator: jobs",
        weight: 5,
        build: () => ({ auth: "operator", query: `{ jobs { name paused lastRun { status } } }` }),
        ok: (data) => Array.isArray(data.jobs),
      },
      {
        name: "operator: approve a review",
        weight: 5,
        build: () => {
          const id = pendingReviews.pop();
          if (!id) return null;
          return {
            auth: "operator",
            query: `mutation ($id: ID!) { approveReview(id: $id) { __typename ... on Error { message } } }`,
            variables: { id },
          };
        },
        ok: (data) => typename(data.approveReview) === "MutationApproveReviewSuccess",
      },
      {
        name: "integration: submit a review",
        weight: 15,
        build: () => ({
          auth: "integration",
          query: `mutation ($businessId: ID!, $rating: Int!, $body: String!) { submitReview(businessId: $businessId, rating: $rating, body: $body) { __typename ... on MutationSubmitReviewSuccess { data { id } } ... on Error { message } } }`,
          variables: {
            businessId: pick(businesses),
            rating: 1 + Math.floor(Math.random() * 5),
            body: `Load run review ${++submitted}: patient trainer, our dog now walks on a loose lead.`,
          },
        }),
        ok: (data) => {
          const result = data.submitReview as { __typename?: string; data?: { id: string } } | null;
          if (result?.data?.id) pendingReviews.push(result.data.id);
          return result?.__typename === "MutationSubmitReviewSuccess";
        },
      },
      {
        name: "integration: published reviews",
        weight: 15,
        build: () => ({
          auth: "integration",
          query: `query ($id: ID!) { publishedReviews(businessId: $id, first: 10) { edges { node { id rating body } } } }`,
          variables: { id: pick(businesses) },
        }),
        ok: (data) => data.publishedReviews !== null,
      },
      {
        name: "integration: queue position",
        weight: 10,
        build: () => ({
          auth: "integration",
          query: `query ($id: ID!) { queuePosition(businessId: $id) { __typename ... on QueryQueuePositionSuccess { data { status position } } } }`,
          variables: { id: pick(businesses) },
        }),
        ok: (data) => typename(data.queuePosition) === "QueryQueuePositionSuccess",
      },
    ];
    const totalWeight = operations.reduce((sum, op) => sum + op.weight, 0);
    const choose = (): Operation => {
      let roll = Math.random() * totalWeight;
      for (const op of operations) if ((roll -= op.weight) < 0) return op;
      return operations[0]!;
    };

    const latencies: number[] = [];
    const errorsByKind = new Map<string, number>();
    let errors = 0;
    const fail = (kind: string) => {
      errors++;
      errorsByKind.set(kind, (errorsByKind.get(kind) ?? 0) + 1);
    };
    async function send(op: Operation, due: number, measured: boolean): Promise<void> {
      const request = op.build() ?? operations[0]!.build();
      if (!request) return;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (request.auth === "operator") headers.cookie = cookie!;
      else headers.authorization = `Bearer ${token}`;
      try {
        const response = await fetch(`${apiUrl}/graphql`, {
          method: "POST",
          headers,
          body: JSON.stringify({ query: request.query, variables: request.variables }),
        });
        const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
        if (measured) latencies.push(performance.now() - due);
        if (response.status !== 200 || body.errors || !body.data || !op.ok(body.data)) {
          if (measured)
            fail(
              `${op.name} (HTTP ${response.status}${body.errors ? `, ${JSON.stringify(body.errors).slice(0, 120)}` : ""})`,
            );
        }
      } catch (error) {
        if (measured) fail(`${op.name} (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    /** Fires requests at the fixed rate for `seconds`; resolves when every answer is in. */
    async function drive(seconds: number, measured: boolean): Promise<number> {
      return (await openLoop(options.rate, seconds, (_i, due) => send(choose(), due, measured))).total;
    }

    await drive(3, false); // warm-up: JIT, connection pools, the session cache
    const samples: number[] = [];
    const before = rssMiB(api.pid!);
    const sampler = setInterval(() => samples.push(rssMiB(api.pid!)), 1000);
    const started = performance.now();
    const total = await drive(options.seconds, true);
    const elapsed = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const after = rssMiB(api.pid!);
    latencies.sort((a, b) => a - b);
    // Unbounded growth shows as a rising second half; a warm process levels off.
    const half = samples.slice(Math.floor(samples.length / 2));
    const secondHalfGrowth = half.length > 1 ? half.at(-1)! - half[0]! : 0;
    const peak = Math.max(before, after, ...samples);

    if (errors > 0) {
      console.error(`load run: ${errors} errors`);
      for (const [kind, count] of errorsByKind) console.error(`  ${count} × ${kind}`);
      process.exitCode = 1;
    }
    const label = `${options.rate} req/s for ${options.seconds} s`;
    return [
      {
        name: `load run p50 (mixed operator + integration, ${label}, open loop)`,
        value: quantile(latencies, 0.5),
        unit: "ms",
        note: `${total} requests in ${elapsed.toFixed(1)} s`,
      },
      { name: "load run p99", value: quantile(latencies, 0.99), unit: "ms" },
      { name: "load run errors (must be 0)", value: errors, unit: "errors", note: errors === 0 ? "ok" : "FAILED" },
      {
        name: "API memory (RSS) after the load run",
        value: after,
        unit: "MiB",
        floor: before,
        floorName: "before",
        note: `peak ${peak.toFixed(0)} MiB; second half ${secondHalfGrowth >= 0 ? "+" : ""}${secondHalfGrowth.toFixed(1)} MiB`,
      },
    ];
  } finally {
    await Promise.all([api, worker].map(stopNodeProcess));
    // Leave nothing of this run's queue behind in the shared Redis.
    const queue = createBullJobQueues({ redisUrl: env.REDIS_URL, prefix: env.REDIS_PREFIX });
    await queue.obliterate();
    await queue.close();
    await db.$disconnect();
    await dropDatabase(databaseUrl);
  }
}
