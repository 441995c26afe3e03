// The review queue under load, over the real API: the dashboard's `Reviews` query at a fixed
// arrival rate (open loop, latency counted from when each request was due) against an API in its
// own process, mostly first pages and some pages deep in the queue through real `after` cursors.
// Floor, same run, same rate and mix: the bare keyset page query through a pg pool.
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { encodeBase64, encodeCursorChunk } from "@pothos/core";
import { hashPassword } from "@steward/core/passwords";
import type { Db } from "@steward/db/client";
import pg from "pg";
import { freePort } from "../../scripts/lib/services.ts";
import { waitForHttp } from "../../scripts/lib/run.ts";
import { benchProcessEnv, signIn } from "./api.ts";
import { openLoop, quantile, startNodeProcess, stopNodeProcess } from "./load.ts";
import type { BenchRow } from "./table.ts";

export interface QueueLoadOptions {
  rate: number;
  seconds: number;
}

const PAGE_SIZE = 50; // the dashboard's page (web/src/routes/(app)/reviews/reviews.svelte.ts)
const PASSWORD = "bench-review-queue-password";

// The dashboard's queue document (web/src/routes/(app)/reviews/review-operations.ts, ReviewsQuery
// with ReviewFields inlined), so the figure includes its relations.
const REVIEWS_QUERY = `query Reviews($first: Int!, $after: String, $filter: ReviewFilter) {
  reviews(first: $first, after: $after, filter: $filter) {
    edges { node {
      id rating body source status aiConfidence aiProvider rejectionReason moderatorNote decidedAt version createdAt
      moderator { name email }
      business { id name region { id name slug } }
      scores { classifier confidence signals createdAt }
      decisions { action reason note bulk createdAt actor { name } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const FLOOR_FIRST = `SELECT * FROM "Review" WHERE status = 'PENDING' ORDER BY "createdAt", id LIMIT ${PAGE_SIZE + 1}`;
const FLOOR_AFTER = `SELECT * FROM "Review" WHERE status = 'PENDING'
  AND ("createdAt", id) > ((SELECT "createdAt" FROM "Review" WHERE id = $1), $1::uuid)
  ORDER BY "createdAt", id LIMIT ${PAGE_SIZE + 1}`;

interface Page {
  edges: { node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** A node's global id is base64 `Review:<id>`. */
const rawId = (globalId: string) => Buffer.from(globalId, "base64").toString().split(":")[1]!;

/** Pothos' cursor for a review id (the same bytes the API hands out as `endCursor`). */
const cursorFor = (id: string) => encodeBase64(`GPC:${encodeCursorChunk(id)}`);

interface Run {
  latencies: number[];
  deep: number[];
  errors: number;
  firstError?: string;
  total: number;
  elapsedSeconds: number;
}

export async function benchReviewQueue(
  db: Db,
  databaseUrl: string,
  queueSize: number,
  options: QueueLoadOptions,
): Promise<BenchRow[]> {
  await db.operator.create({
    data: {
      email: "queue-bench@steward.test",
      name: "Queue bench",
      role: "OPERATOR",
      passwordHash: await hashPassword(PASSWORD),
    },
  });
  // Deep positions in the queue, computed in SQL; the last leaves a full page after it.
  const positions = [0.25, 0.5, 0.75].map((f) => Math.floor(queueSize * f)).concat(queueSize - PAGE_SIZE * 2);
  const deepIds: string[] = [];
  for (const offset of positions) {
    const row = await db.$queryRawUnsafe<{ id: string }[]>(
      `SELECT id FROM "Review" WHERE status = 'PENDING' ORDER BY "createdAt", id OFFSET ${offset} LIMIT 1`,
    );
    deepIds.push(row[0]!.id);
  }

  const port = await freePort();
  const env = benchProcessEnv(databaseUrl, "queue", port);
  const api = startNodeProcess("api/src/main.ts", env, "api");
  const apiUrl = `http://127.0.0.1:${port}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const agents: Agent[] = [];
  try {
    await waitForHttp(`${apiUrl}/readyz`);
    const cookie = await signIn(apiUrl, "queue-bench@steward.test", PASSWORD);

    // A fixed set of keep-alive connections, as autocannon uses: past it, requests wait for a socket
    // (still timed from when they were due) instead of opening thousands that time out connecting.
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    agents.push(agent);
    const page = (after: string | null): Promise<{ status: number; page?: Page; errors?: unknown }> =>
      new Promise((resolve, reject) => {
        const payload = JSON.stringify({ query: REVIEWS_QUERY, variables: { first: PAGE_SIZE, after } });
        const req = request(
          `${apiUrl}/graphql`,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), cookie },
          },
          (response) => {
            let text = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (text += chunk));
            response.on("end", () => {
              try {
                const body = JSON.parse(text) as { data?: { reviews: Page }; errors?: unknown };
                resolve({ status: response.statusCode ?? 0, page: body.data?.reviews, errors: body.errors });
              } catch (error) {
                reject(error instanceof Error ? error : new Error(String(error)));
              }
            });
            response.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(payload);
      });

    // Shallow cursors: the real endCursors of the first pages, as an operator paging on gets them.
    const shallow: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 4; i++) {
      const result = await page(after);
      if (!result.page?.pageInfo.endCursor) throw new Error(`queue bench: page ${i} failed: ${String(result.errors)}`);
      if (i === 0 && result.page.pageInfo.endCursor !== cursorFor(rawId(result.page.edges.at(-1)!.node.id)))
        throw new Error("queue bench: the API's cursor format is not the one computed here");
      after = result.page.pageInfo.endCursor;
      shallow.push(after);
    }
    const deep = deepIds.map(cursorFor);
    // Most requests are the first page; 10 % page on, 20 % jump deep into the queue.
    const choose = (i: number): { after: string | null; deep: boolean } => {
      const roll = i % 10;
      if (roll < 7) return { after: null, deep: false };
      if (roll < 8) return { after: shallow[i % shallow.length]!, deep: false };
      return { after: deep[i % deep.length]!, deep: true };
    };

    async function drive(seconds: number, send: (after: string | null) => Promise<string | null>): Promise<Run> {
      const run: Run = { latencies: [], deep: [], errors: 0, total: 0, elapsedSeconds: 0 };
      const result = await openLoop(options.rate, seconds, async (i, due) => {
        const pick = choose(i);
        let failure: string | null;
        try {
          failure = await send(pick.after);
        } catch (error) {
          failure = error instanceof Error ? error.message : String(error);
        }
        const ms = performance.now() - due;
        run.latencies.push(ms);
        if (pick.deep) run.deep.push(ms);
        if (failure) {
          run.errors++;
          run.firstError ??= failure;
        }
      });
      run.total = result.total;
      run.elapsedSeconds = result.elapsedSeconds;
      run.latencies.sort((a, b) => a - b);
      run.deep.sort((a, b) => a - b);
      return run;
    }
    const viaApi = async (cursor: string | null): Promise<string | null> => {
      const result = await page(cursor);
      if (result.status !== 200 || result.errors) return `HTTP ${result.status} ${JSON.stringify(result.errors)}`;
      if (result.page?.edges.length !== PAGE_SIZE) return `page of ${result.page?.edges.length ?? 0} reviews`;
      return null;
    };
    const decode = (cursor: string) => {
      const chunk = Buffer.from(cursor, "base64").toString().slice("GPC:".length);
      return chunk.slice(chunk.indexOf(":") + 1); // `S:<id>`: a string chunk
    };
    const viaSql = async (cursor: string | null): Promise<string | null> => {
      const result = cursor ? await pool.query(FLOOR_AFTER, [decode(cursor)]) : await pool.query(FLOOR_FIRST);
      return result.rowCount === PAGE_SIZE + 1 ? null : `floor page of ${result.rowCount} rows`;
    };

    await drive(2, viaApi); // warm-up: JIT, connection pools, the session cache
    await drive(2, viaSql);
    // One at a time, the same mix: the service time, which bounds the rate one API process sustains.
    const serial = async (send: (after: string | null) => Promise<string | null>) => {
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const started = performance.now();
        await send(choose(i).after);
        times.push(performance.now() - started);
      }
      return quantile(
        times.sort((a, b) => a - b),
        0.5,
      );
    };
    const serialApi = await serial(viaApi);
    const serialSql = await serial(viaSql);
    const sql = await drive(options.seconds, viaSql);
    const graphql = await drive(options.seconds, viaApi);
    if (graphql.errors > 0 || sql.errors > 0) {
      console.error(
        `review queue: ${graphql.errors} API errors (first: ${graphql.firstError}), ${sql.errors} SQL errors`,
      );
      process.exitCode = 1;
    }

    const plan = await pool.query<{ "QUERY PLAN": string }>(
      `EXPLAIN ANALYZE SELECT * FROM "Review" WHERE status = 'PENDING'
         AND "createdAt" >= (SELECT "createdAt" FROM "Review" WHERE id = $1)
         AND ("createdAt" > (SELECT "createdAt" FROM "Review" WHERE id = $1) OR id > $1::uuid)
         ORDER BY "createdAt", id LIMIT ${PAGE_SIZE + 1}`,
      [deepIds[1]],
    );
    const planText = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
    const rangeScan = /Index Cond: \(\(status = 'PENDING'[^)]*\) AND \("createdAt" >=/.test(planText);

    const label = `${queueSize} reviews, ${options.rate} req/s for ${options.seconds} s, open loop, 70 % first page / 30 % after a cursor`;
    const rate = (run: Run) => run.total / run.elapsedSeconds;
    return [
      {
        name: `review queue page p50 over GraphQL (${label})`,
        value: quantile(graphql.latencies, 0.5),
        unit: "ms",
        floor: quantile(sql.latencies, 0.5),
        floorName: "bare SQL keyset page, pg pool, same rate",
      },
      {
        name: "review queue page p99 over GraphQL (target < 50 ms)",
        value: quantile(graphql.latencies, 0.99),
        unit: "ms",
        floor: quantile(sql.latencies, 0.99),
        floorName: "bare SQL keyset page",
        note: quantile(graphql.latencies, 0.99) < 50 ? "target met" : "TARGET MISSED",
      },
      {
        name: "review queue deep page (25–100 % of the queue) p99 over GraphQL",
        value: quantile(graphql.deep, 0.99),
        unit: "ms",
        floor: quantile(sql.deep, 0.99),
        floorName: "bare SQL keyset page",
        note: rangeScan ? "API's keyset plan: index range scan from the cursor" : "API's keyset plan: NOT a range scan",
      },
      {
        name: `review queue achieved rate (asked ${options.rate} req/s)`,
        value: rate(graphql),
        unit: "req/s",
        floor: rate(sql),
        floorName: "bare SQL",
        note: `${graphql.total} requests, last answer at ${graphql.elapsedSeconds.toFixed(1)} s`,
      },
      {
        name: "review queue page one request at a time, p50 (service time)",
        value: serialApi,
        unit: "ms",
        floor: serialSql,
        floorName: "bare SQL keyset page",
        note: `one API process serves at most ~${Math.round(1000 / serialApi)} req/s`,
      },
      {
        name: "review queue errors (must be 0)",
        value: graphql.errors,
        unit: "errors",
        note: graphql.errors === 0 && sql.errors === 0 ? "ok" : `FAILED: ${graphql.firstError ?? sql.firstError}`,
      },
    ];
  } finally {
    for (const agent of agents) agent.destroy();
    await pool.end();
    await stopNodeProcess(api);
  }
}
