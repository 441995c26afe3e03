// `--only floor`: each hot operation through Steward's API beside the bare floor server
// (floor/server.ts: same graphql-yoga, Pothos and pg, one hand-written statement per page, no auth)
// in the same run, on the same data. Closed loop, 32 keep-alive connections from a load generator
// in its own process (floor/loadgen.ts); the server under test pinned to one core and the load
// generator to the other with `taskset` where the machine has two; rounds alternate API and floor
// and the median of three is reported, with the server's CPU per request read from /proc.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBase64, encodeCursorChunk } from "@pothos/core";
import { checkNames } from "@steward/core/alertRules";
import { createApiToken } from "@steward/core/apiTokens";
import { loadEnv } from "@steward/core/env";
import { type ScheduledJob, scheduledJobsOf } from "@steward/core/jobHealth";
import { metricsSettings, rollupMetrics } from "@steward/core/metrics";
import { hashPassword } from "@steward/core/passwords";
import type { Db } from "@steward/db/client";
import { jobContracts } from "@steward/jobs/contracts";
import { waitForHttp } from "../../scripts/lib/run.ts";
import { freePort } from "../../scripts/lib/services.ts";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { benchProcessEnv, signIn } from "./api.ts";
import type { LoadgenConfig, LoadgenRequest, LoadgenResult } from "./floor/loadgen.ts";
import { cpuMs, runLoadgen, twoCores } from "./pinned.ts";
import { startNodeProcess, stopNodeProcess } from "./load.ts";
import { PUBLISHED_REVIEWS, SUBMIT_REVIEW } from "./integration-documents.ts";
import { dashboardOperations } from "../../tests/support/dashboard-documents.ts";
import type { BenchRow } from "./table.ts";

export interface FloorOptions {
  reviews: number;
  seconds: number;
  rounds: number;
  connections: number;
}

const PAGE_SIZE = 50; // the dashboard's page (web/src/routes/(app)/reviews/reviews.svelte.ts)
const PASSWORD = "bench-floor-password";
const WEBHOOK_SECRET = "whsec_steward_sandbox";
const PUBLISHED = 500;
const REFUND_REQUESTS = 200;
// The API rolls the metrics up again in a request when its snapshot is older than this; in
// production the worker's minute job keeps it fresh. The rounds measure the request, so the
// harness rolls up once before them and neither server does during them.
const METRICS_MAX_AGE_SECONDS = "3600";

// The dashboard's documents exactly as the browser sends them today (read from web/src, fragments
// included): the floor server answers the same fields, so the comparison follows the dashboard.
const dashboard = new Map(dashboardOperations().map((operation) => [operation.name, operation.source]));
function dashboardDocument(name: string): string {
  const source = dashboard.get(name);
  if (!source) throw new Error(`floor bench: the dashboard has no operation ${name}`);
  return source;
}
const REVIEWS = dashboardDocument("Reviews");
const REFUND_REQUESTS_DOCUMENT = dashboardDocument("RefundRequests");
const OVERVIEW = dashboardDocument("Overview");

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
/** Pothos' cursor for a review id (the bytes the API hands out as `endCursor`). */
const cursorFor = (id: string) => encodeBase64(`GPC:${encodeCursorChunk(id)}`);

interface Side {
  name: string;
  pid: number;
  baseUrl: string;
  load: Omit<LoadgenConfig, "baseUrl" | "seconds" | "connections">;
}

interface Round extends LoadgenResult {
  perSecond: number;
  cpuPerRequest: number;
}

async function round(side: Side, seconds: number, connections: number, dir: string): Promise<Round> {
  const before = cpuMs(side.pid);
  const result = await runLoadgen({ ...side.load, baseUrl: side.baseUrl, seconds, connections }, dir);
  const cpu = cpuMs(side.pid) - before;
  if (result.errors > 0) {
    console.error(`floor bench: ${side.name}: ${result.errors} errors, first: ${result.firstError}`);
    process.exitCode = 1;
  }
  return { ...result, perSecond: result.requests / result.seconds, cpuPerRequest: cpu / Math.max(1, result.requests) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** The parts of the Overview answer the bench reports on (what was compared is the whole answer). */
interface OverviewAnswer {
  status: string;
  openAlerts: unknown[];
  recentAlerts: unknown[];
  health: { state: string }[];
  jobsDue: unknown[];
  lastCheckup: unknown;
  metrics: { revenue: unknown[]; jobs: { latest: unknown[] } };
}

/** What the compared overview held, so a run shows it measured a real one. */
function overviewSummary(overview: OverviewAnswer): string {
  const failing = overview.health.filter((check) => check.state !== "OK").length;
  return [
    `status ${overview.status}`,
    `${overview.openAlerts.length} open alerts`,
    `${overview.recentAlerts.length} recent`,
    `${overview.health.length} checks (${failing} not OK)`,
    `${overview.jobsDue.length} jobs due`,
    overview.lastCheckup ? "a checkup" : "no checkup",
    `${overview.metrics.revenue.length} revenue currencies`,
    `${overview.metrics.jobs.latest.length} latest job runs`,
  ].join(", ");
}

async function seedFloorData(
  db: Db,
  reviews: number,
  scheduledJobs: readonly ScheduledJob[],
): Promise<{ operatorEmail: string; businessIds: string[] }> {
  const operatorEmail = "floor-bench@steward.test";
  const operator = await db.operator.create({
    data: { email: operatorEmail, name: "Floor bench", role: "OPERATOR", passwordHash: await hashPassword(PASSWORD) },
  });
  const region = await db.region.create({ data: { slug: `floor-${Date.now()}`, name: "Floor" } });
  await db.$executeRawUnsafe(
    `INSERT INTO "Business" (id, "regionId", name, email)
     SELECT gen_random_uuid(), '${region.id}', 'Floor Dog School ' || g, 'floor' || g || '@example.com'
       FROM generate_series(1, 20) g`,
  );
  const businessIds = (await db.business.findMany({ where: { regionId: region.id }, select: { id: true } })).map(
    (b) => b.id,
  );
  const list = `ARRAY[${businessIds.map((id) => `'${id}'::uuid`).join(",")}]`;
  // Pending reviews across the businesses, a classifier score each, and a moderator's reopen on every
  // tenth (so the page's moderator, scores and decisions all have rows).
  await db.$executeRawUnsafe(
    `INSERT INTO "Review" (id, "businessId", rating, body, source, status, "aiConfidence", "aiProvider", "createdAt")
     SELECT gen_random_uuid(), (${list})[1 + g % 20], 1 + g % 5, 'Floor review ' || g || ': a calmer dog and a clear trainer.',
            'bench', 'PENDING', 0.5, 'deterministic', now() - (g || ' seconds')::interval
       FROM generate_series(1, ${reviews}) g`,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO "ReviewScore" (id, "reviewId", classifier, confidence, signals, "createdAt")
     SELECT gen_random_uuid(), id, 'deterministic', 0.5, '["length"]', "createdAt" FROM "Review"`,
  );
  await db.$executeRawUnsafe(
    `WITH tenth AS (SELECT id FROM "Review" WHERE rating = 3 AND random() < 0.5)
     INSERT INTO "ReviewDecision" (id, "reviewId", action, note, "actorId", "createdAt")
     SELECT gen_random_uuid(), id, 'REOPEN', 'Second look', '${operator.id}', now() FROM tenth`,
  );
  // The classifier's suggestion on the one-star reviews (the page shows it beside the score).
  await db.$executeRawUnsafe(
    `UPDATE "Review" SET "suggestedReason" = 'SPAM', "suggestedSignals" = ARRAY['link', 'repeated']
      WHERE rating = 1 AND status = 'PENDING'`,
  );
  await db.$executeRawUnsafe(
    `UPDATE "Review" SET "moderatorId" = '${operator.id}', "moderatorNote" = 'Second look'
      WHERE id IN (SELECT "reviewId" FROM "ReviewDecision")`,
  );
  // A page of published reviews (and more) for the first business.
  await db.$executeRawUnsafe(
    `INSERT INTO "Review" (id, "businessId", rating, body, source, status, "decidedAt", "createdAt")
     SELECT gen_random_uuid(), '${businessIds[0]}', 1 + g % 5, 'Published review ' || g, 'bench', 'APPROVED', now(), now()
       FROM generate_series(1, ${PUBLISHED}) g`,
  );
  // Pending refund requests on payments of the last two days.
  await db.$executeRawUnsafe(
    `WITH paid AS (
       INSERT INTO "Payment" (id, "stripeChargeId", "businessId", "amountCents", currency, status, "purchasedAt", "updatedAt")
       SELECT gen_random_uuid(), 'ch_floor_' || g, (${list})[1 + g % 20], 2200, 'aud', 'SUCCEEDED',
              now() - (g * 10 || ' minutes')::interval, now()
         FROM generate_series(1, ${REFUND_REQUESTS}) g
       RETURNING id, "businessId")
     INSERT INTO "RefundRequest" (id, "paymentId", "businessId", reason, "requestedBy", status, "idempotencyKey")
     SELECT gen_random_uuid(), id, "businessId", 'Class cancelled', 'owner@example.com', 'PENDING', 'floor-' || id FROM paid`,
  );
  await seedOverviewData(db, scheduledJobs);
  await db.$executeRawUnsafe(`VACUUM ANALYZE`);
  return { operatorEmail, businessIds };
}

/**
 * What the overview shows beside the rows above: alerts of each severity and status, the checks'
 * latest results (two checks never ran, one is failing), a weekly checkup, and job runs (some jobs
 * late, two never ran). The metrics snapshot is rolled up from all of it before the rounds.
 */
async function seedOverviewData(db: Db, scheduledJobs: readonly ScheduledJob[]): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO "Alert" (id, fingerprint, "ruleKey", severity, status, title, detail, count, "firstSeenAt", "lastSeenAt")
     SELECT gen_random_uuid(), 'floor:' || g, 'floor', (ARRAY['RED', 'YELLOW', 'GREEN'])[1 + g % 3]::"Severity",
            (ARRAY['FIRING', 'FIRING', 'ACKNOWLEDGED', 'RESOLVED'])[1 + g % 4]::"AlertStatus",
            'Floor alert ' || g, 'Floor alert detail ' || g, g, now() - (g || ' hours')::interval,
            now() - (g || ' minutes')::interval
       FROM generate_series(1, 12) g`,
  );
  const checks = checkNames.slice(0, -2);
  await db.$executeRawUnsafe(
    `INSERT INTO "HealthCheckResult" (id, "check", ok, "latencyMs", detail, status, "checkedAt")
     SELECT gen_random_uuid(), name, name <> 'ai_provider', 12, CASE WHEN name = 'ai_provider' THEN 'timed out' END,
            (CASE WHEN name = 'ai_provider' THEN 'RED' ELSE 'GREEN' END)::"Severity", now() - (minutes || ' minutes')::interval
       FROM unnest($1::text[]) AS name, generate_series(2, 4) minutes`,
    checks,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO "CheckupReport" (id, overall, findings, trigger, summary, "createdAt")
     VALUES (gen_random_uuid(), 'YELLOW', '[]', 'SCHEDULE', '1 yellow: featured adoption', now() - interval '2 days')`,
  );
  await db.$executeRawUnsafe(
    `INSERT INTO "JobRun" (id, "jobName", "queueJobId", trigger, attempt, status, "startedAt", "finishedAt")
     SELECT gen_random_uuid(), name, 'floor-' || name, 'SCHEDULE', 1, 'SUCCEEDED',
            now() - interval '10 minutes', now() - interval '9 minutes'
       FROM unnest($1::text[]) AS name`,
    scheduledJobs.slice(2).map((job) => job.name),
  );
}

export async function benchFloor(db: Db, databaseUrl: string, options: FloorOptions): Promise<BenchRow[]> {
  const load = loadavg();
  // The API's settings (its port aside): the metrics' time zone and the scheduled jobs are its own.
  const stewardEnv = loadEnv({ ...benchProcessEnv(databaseUrl, "floor-api", 0), METRICS_MAX_AGE_SECONDS });
  const scheduledJobs = scheduledJobsOf(jobContracts(stewardEnv));
  const { operatorEmail, businessIds } = await seedFloorData(db, options.reviews, scheduledJobs);
  await rollupMetrics({ db, settings: metricsSettings(stewardEnv) });
  const operator = await db.operator.findUniqueOrThrow({ where: { email: operatorEmail } });
  const token = (
    await createApiToken(
      { db },
      { kind: "OPERATOR", id: operator.id, email: operator.email, name: operator.name, role: "ADMIN" },
      { name: "floor bench", scopes: ["read", "reviews:write"] },
    )
  ).token;
  const deepIds: string[] = [];
  for (const fraction of [0.5, 0.75]) {
    const [row] = await db.$queryRawUnsafe<{ id: string }[]>(
      `SELECT id FROM "Review" WHERE status = 'PENDING' ORDER BY "createdAt", id OFFSET ${Math.floor(options.reviews * fraction)} LIMIT 1`,
    );
    deepIds.push(row!.id);
  }

  const apiPort = await freePort();
  const floorPort = await freePort();
  const apiEnv = {
    ...benchProcessEnv(databaseUrl, "floor-api", apiPort),
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    METRICS_MAX_AGE_SECONDS,
  };
  const floorEnv = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: apiEnv.REDIS_URL,
    REDIS_PREFIX: `bench-floor-${process.pid}`,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    FLOOR_PORT: String(floorPort),
    FLOOR_SCHEDULED_JOBS: JSON.stringify(scheduledJobs),
  };
  const pin = twoCores ? { cpus: "0" } : {};
  // FLOOR_PROFILE_DIR=<dir>: the API and the floor write V8 CPU profiles into <dir>/api and
  // <dir>/floor when they stop (node --cpu-prof; one file per thread, the largest is the main one).
  const profile = process.env.FLOOR_PROFILE_DIR;
  const profiled = (name: string) => (profile ? ["--cpu-prof", `--cpu-prof-dir=${join(profile, name)}`] : []);
  const api = startNodeProcess("api/src/main.ts", apiEnv, "api", { ...pin, nodeArgs: profiled("api") });
  const floor = startNodeProcess("bench/src/floor/server.ts", floorEnv, "floor", {
    ...pin,
    nodeArgs: profiled("floor"),
  });
  const dir = mkdtempSync(join(tmpdir(), "steward-floor-"));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const floorUrl = `http://127.0.0.1:${floorPort}`;
  try {
    await Promise.all([waitForHttp(`${apiUrl}/readyz`), waitForHttp(`${floorUrl}/readyz`)]);
    const cookie = await signIn(apiUrl, operatorEmail, PASSWORD);

    // The bench's cursor mix (reviewQueue.ts): 70 % first pages, 10 % the next pages, 20 % deep.
    const shallow: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${apiUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ query: REVIEWS, variables: { first: PAGE_SIZE, after } }),
      });
      const body = (await response.json()) as { data?: { reviews: { pageInfo: { endCursor: string } } } };
      after = body.data?.reviews.pageInfo.endCursor ?? null;
      if (!after) throw new Error(`floor bench: the API answered no queue page: ${JSON.stringify(body)}`);
      shallow.push(after);
    }
    const queueCursors: (string | null)[] = [...Array<null>(7).fill(null), shallow[0]!, ...deepIds.map(cursorFor)];
    const graphqlBody = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });
    const operations: {
      name: string;
      target: number;
      auth: "cookie" | "bearer" | "webhook";
      bodies: string[];
      floorName?: string;
    }[] = [
      {
        name: `review queue page (Reviews document with its count, ${PAGE_SIZE} rows, 70 % first / 30 % after a cursor)`,
        target: 0.65,
        auth: "cookie",
        bodies: queueCursors.map((cursor) => graphqlBody(REVIEWS, { first: PAGE_SIZE, after: cursor })),
      },
      {
        name: `refund list (RefundRequests document, ${PAGE_SIZE} pending)`,
        target: 0.65,
        auth: "cookie",
        bodies: [graphqlBody(REFUND_REQUESTS_DOCUMENT, { first: PAGE_SIZE })],
      },
      {
        name: "overview (Overview document, LAST_30_DAYS; one prepared statement on both sides)",
        target: 0.5,
        auth: "cookie",
        bodies: [graphqlBody(OVERVIEW, { window: "LAST_30_DAYS" })],
      },
      {
        name: `publishedReviews (integration, ${PAGE_SIZE} rows)`,
        target: 0.65,
        auth: "bearer",
        bodies: [graphqlBody(PUBLISHED_REVIEWS, { businessId: gid("Business", businessIds[0]!), first: PAGE_SIZE })],
      },
      {
        name: "submitReview (integration; review + audit + score job)",
        target: 0.65,
        auth: "bearer",
        bodies: businessIds.map((id, index) =>
          graphqlBody(SUBMIT_REVIEW, {
            businessId: gid("Business", id),
            rating: 1 + (index % 5),
            body: `Floor bench review ${index}: patient trainer, our dog now walks on a loose lead.`,
          }),
        ),
      },
      {
        name: "Stripe webhook (signed charge.succeeded, new event each)",
        target: 0.5,
        auth: "webhook",
        bodies: [],
        floorName: "hand-written HMAC check + INSERT … ON CONFLICT + the same BullMQ add",
      },
    ];

    // The comparison only means something if both answer the same: each read document's first
    // request must give the same data from both (node ids, cursors, dates and relations included),
    // and data it is (two identical errors are no comparison).
    const answersDiffer: string[] = [];
    for (const operation of operations.filter((op) => op.auth === "cookie" || op.name.startsWith("publishedReviews"))) {
      const answer = async (baseUrl: string, headers: Record<string, string>) => {
        const response = await fetch(`${baseUrl}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: operation.bodies.at(-1)!,
        });
        return JSON.stringify(await response.json());
      };
      const auth: Record<string, string> =
        operation.auth === "cookie" ? { cookie } : { authorization: `Bearer ${token}` };
      const [steward, bare] = await Promise.all([answer(apiUrl, auth), answer(floorUrl, {})]);
      const answered = JSON.parse(steward) as { data?: Record<string, unknown> | null; errors?: unknown };
      if (answered.errors || !answered.data) {
        answersDiffer.push(operation.name);
        console.error(`floor bench: the API answers ${operation.name} with no data: ${steward.slice(0, 300)}`);
        process.exitCode = 1;
      } else if (steward !== bare) {
        const at = [...steward].findIndex((char, index) => char !== bare[index]);
        answersDiffer.push(operation.name);
        console.error(
          `floor bench: the floor answers ${operation.name} differently at ${at}:\n  API:   …${steward.slice(Math.max(0, at - 80), at + 80)}\n  floor: …${bare.slice(Math.max(0, at - 80), at + 80)}`,
        );
        process.exitCode = 1;
      }
      const { overview } = (answered.data ?? {}) as { overview?: OverviewAnswer };
      if (overview) console.log(`  floor: both answer the overview with ${overviewSummary(overview)}`);
    }

    const rows: BenchRow[] = [];
    // FLOOR_OPERATIONS=review,refund: only the operations whose name contains one of these words.
    const chosen = process.env.FLOOR_OPERATIONS?.split(",").map((word) => word.trim().toLowerCase());
    for (const operation of operations.filter(
      (op) => !chosen || chosen.some((w) => op.name.toLowerCase().includes(w)),
    )) {
      const sides: Side[] = [api.pid!, floor.pid!].map((pid, index) => {
        const steward = index === 0;
        const baseUrl = steward ? apiUrl : floorUrl;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (steward && operation.auth === "cookie") headers.cookie = cookie;
        if (steward && operation.auth === "bearer") headers.authorization = `Bearer ${token}`;
        const requests: LoadgenRequest[] = operation.bodies.map((body) => ({ path: "/graphql", headers, body }));
        return {
          name: `${steward ? "Steward" : "floor"}: ${operation.name}`,
          pid,
          baseUrl,
          load:
            operation.auth === "webhook"
              ? {
                  webhook: { path: "/webhooks/stripe", secret: WEBHOOK_SECRET, label: `${steward ? "api" : "floor"}` },
                }
              : { requests },
        };
      });
      // Warm-up (JIT, pools, caches), then rounds alternating API and floor.
      for (const side of sides) await round(side, Math.min(2, options.seconds), options.connections, dir);
      const results: [Round[], Round[]] = [[], []];
      for (let r = 0; r < options.rounds; r++) {
        for (const [index, side] of sides.entries()) {
          results[index]!.push(await round(side, options.seconds, options.connections, dir));
        }
      }
      const [steward, bare] = results.map((runs) => ({
        perSecond: median(runs.map((run) => run.perSecond)),
        p50: median(runs.map((run) => run.p50)),
        p99: median(runs.map((run) => run.p99)),
        cpu: median(runs.map((run) => run.cpuPerRequest)),
        spread: `${Math.round(Math.min(...runs.map((run) => run.perSecond)))}–${Math.round(Math.max(...runs.map((run) => run.perSecond)))}`,
        errors: runs.reduce((sum, run) => sum + run.errors, 0),
      }));
      const ratio = steward!.perSecond / bare!.perSecond;
      rows.push(
        {
          name: `${operation.name}: throughput vs the floor`,
          value: steward!.perSecond,
          unit: "req/s",
          floor: bare!.perSecond,
          floorName: operation.floorName ?? "bare Yoga + Pothos + pg, one statement",
          note: `target ≥ ${operation.target}× ${ratio >= operation.target ? "met" : "MISSED"}; spread ${steward!.spread} vs ${bare!.spread}; errors ${steward!.errors + bare!.errors}${answersDiffer.includes(operation.name) ? "; ANSWERS DIFFER" : ""}`,
        },
        {
          name: `${operation.name}: p50 / p99`,
          value: steward!.p50,
          unit: "ms",
          floor: bare!.p50,
          floorName: "floor p50",
          note: `p99 ${steward!.p99.toFixed(1)} ms vs ${bare!.p99.toFixed(1)} ms`,
        },
        {
          name: `${operation.name}: server CPU per request`,
          value: steward!.cpu,
          unit: "ms",
          floor: bare!.cpu,
          floorName: "floor",
        },
      );
    }
    rows.push({
      name: `floor comparison setup: ${options.connections} connections, closed loop, median of ${options.rounds} × ${options.seconds} s rounds`,
      value: load[0] ?? 0,
      unit: "load avg (1 min) at start",
      note: twoCores
        ? "server on core 0, load generator on core 1 (taskset)"
        : "NOT pinned: one core or no taskset; server and load generator share the CPU",
    });
    return rows;
  } finally {
    await Promise.all([api, floor].map(stopNodeProcess));
    rmSync(dir, { recursive: true, force: true });
    for (const prefix of [apiEnv.REDIS_PREFIX, floorEnv.REDIS_PREFIX]) {
      const queue = createBullJobQueues({ redisUrl: apiEnv.REDIS_URL, prefix });
      await queue.obliterate();
      await queue.close();
    }
  }
}
