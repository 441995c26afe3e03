// The floor: a bare server that answers the same documents Steward's API answers, with the same
// graphql-yoga, @pothos/core and `pg` (no Prisma, no auth, no plugins), one hand-written SQL
// statement per page, and beside it a hand-written Stripe webhook endpoint doing the same three
// things as Steward's (HMAC check, INSERT … ON CONFLICT, the same BullMQ add). What the API costs
// above this is what Steward's layers cost. The overview is the exception to "hand-written": it
// sends core's own statement (already one prepared statement) and builds the answer with core's
// functions, so the two sides differ by Steward's layers only. Run as its own process:
// `node --import tsx server.ts` with DATABASE_URL, REDIS_URL, REDIS_PREFIX, STRIPE_WEBHOOK_SECRET,
// FLOOR_PORT and FLOOR_SCHEDULED_JOBS (the API's scheduled jobs as JSON, for the overview's jobs due).
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import SchemaBuilder, { type ObjectRef } from "@pothos/core";
import type { HealthState } from "@steward/core/health";
import type { ScheduledJob } from "@steward/core/jobHealth";
import {
  type DayValue,
  type JobStatusMetric,
  type Metrics,
  type PeriodAmount,
  type RegionBacklog,
  type RevenueMetric,
  withWindow,
} from "@steward/core/metrics";
import {
  OVERVIEW_STATEMENT_NAME,
  type Overview,
  overviewOf,
  type OverviewRow,
  overviewStatement,
  type PendingTask,
} from "@steward/core/overview";
import { refundEligibility } from "@steward/core/refunds";
import type { Alert, CheckupReport } from "@steward/db/client";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { createYoga } from "graphql-yoga";
import pg from "pg";

const env = {
  databaseUrl: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward",
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
  redisPrefix: process.env.REDIS_PREFIX ?? "floor",
  webhookSecret: process.env.STRIPE_WEBHOOK_SECRET ?? "whsec_steward_sandbox",
  port: Number(process.env.FLOOR_PORT ?? 0),
  scheduledJobs: JSON.parse(process.env.FLOOR_SCHEDULED_JOBS ?? "[]") as ScheduledJob[],
};

// The API's own pool size (prisma/src/client.ts).
const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 10 });
// Prisma's DateTime columns are `timestamp(3)` holding UTC; pg would read them as local time.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (value) => new Date(`${value.replace(" ", "T")}Z`));
const jobs = createBullJobQueues({ redisUrl: env.redisUrl, prefix: env.redisPrefix });

// ───────────────────────────── Ids and cursors, as Steward's API spells them ─────────────────────────────

const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
const rawId = (global: string) => Buffer.from(global, "base64").toString().split(":")[1] ?? "";
/** Pothos' relay cursor for a string id: base64 `GPC:S:<id>`. */
const cursorOf = (id: string) => Buffer.from(`GPC:S:${id}`).toString("base64");
const idOfCursor = (cursor: string) => Buffer.from(cursor, "base64").toString().slice("GPC:S:".length);

// ───────────────────────────── Rows (what one statement returns) ─────────────────────────────

interface ReviewRow {
  id: string;
  rating: number;
  body: string;
  source: string;
  status: string;
  aiConfidence: number | null;
  aiProvider: string | null;
  rejectionReason: string | null;
  suggestedReason: string | null;
  suggestedSignals: string[];
  moderatorNote: string | null;
  decidedAt: Date | null;
  version: number;
  createdAt: Date;
  moderator: { name: string; email: string } | null;
  business: { id: string; name: string; region: { id: string; name: string; slug: string } | null };
  scores: { classifier: string; confidence: number; signals: unknown; createdAt: string }[];
  decisions: {
    action: string;
    reason: string | null;
    note: string | null;
    bulk: boolean;
    createdAt: string;
    actor: { name: string } | null;
  }[];
}

interface RefundRow {
  id: string;
  status: string;
  reason: string;
  amountCents: number;
  currency: string;
  purchasedAt: Date;
  createdAt: Date;
  decidedAt: Date | null;
  denialNote: string | null;
  stripeRefundId: string | null;
  failureMessage: string | null;
  decidedBy: { name: string } | null;
  business: { id: string; name: string };
}

interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

// ───────────────────────────── The statements ─────────────────────────────

const REVIEW_COLUMNS = `r.id, r.rating, r.body, r.source, r.status, r."aiConfidence", r."aiProvider", r."rejectionReason",
  r."suggestedReason", r."suggestedSignals", r."moderatorNote", r."decidedAt", r.version, r."createdAt",
  CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('name', m.name, 'email', m.email) END AS moderator,
  json_build_object('id', b.id, 'name', b.name, 'region', json_build_object('id', g.id, 'name', g.name, 'slug', g.slug)) AS business,
  (SELECT coalesce(json_agg(json_build_object('classifier', s.classifier, 'confidence', s.confidence, 'signals', s.signals,
            'createdAt', s."createdAt") ORDER BY s."createdAt"), '[]')
     FROM "ReviewScore" s WHERE s."reviewId" = r.id) AS scores,
  (SELECT coalesce(json_agg(json_build_object('action', d.action, 'reason', d.reason, 'note', d.note, 'bulk', d.bulk,
            'createdAt', d."createdAt", 'actor', CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object('name', a.name) END)
            ORDER BY d."createdAt"), '[]')
     FROM "ReviewDecision" d LEFT JOIN "Operator" a ON a.id = d."actorId" WHERE d."reviewId" = r.id) AS decisions`;

const REVIEW_JOINS = `FROM "Review" r
  JOIN "Business" b ON b.id = r."businessId"
  JOIN "Region" g ON g.id = b."regionId"
  LEFT JOIN "Operator" m ON m.id = r."moderatorId"`;

/**
 * The queue page, oldest first, keyset after the cursor's (createdAt, id), and, when the document
 * also asks for `reviewCount`, how many reviews have the status: one statement either way.
 */
async function reviewQueuePage(
  status: string,
  first: number,
  after: string | null,
  withCount: boolean,
): Promise<Page<ReviewRow> & { total: number | null }> {
  const keyset = after ? `AND r."createdAt" >= c."createdAt" AND (r."createdAt" > c."createdAt" OR r.id > c.id)` : "";
  const cursor = after ? `, (SELECT id, "createdAt" FROM "Review" WHERE id = $3::uuid) c` : "";
  const page = `SELECT ${REVIEW_COLUMNS} ${REVIEW_JOINS}${cursor}
      WHERE r.status = $1::"ReviewStatus" ${keyset}
      ORDER BY r."createdAt", r.id LIMIT $2`;
  // With the count, the page hangs off the one-row count (an empty page still answers the count).
  const statement = withCount
    ? `WITH total AS (SELECT count(*)::int AS n FROM "Review" WHERE status = $1::"ReviewStatus")
       SELECT total.n AS total, page.* FROM total LEFT JOIN LATERAL (${page}) page ON true
        ORDER BY page."createdAt", page.id`
    : page;
  const result = await pool.query<ReviewRow & { total?: number }>(
    statement,
    after ? [status, first + 1, idOfCursor(after)] : [status, first + 1],
  );
  const rows = result.rows.filter((row) => row.id !== null);
  return {
    rows: rows.slice(0, first),
    hasNextPage: rows.length > first,
    total: withCount ? (result.rows[0]?.total ?? 0) : null,
  };
}

async function reviewCount(status: string): Promise<number> {
  const result = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "Review" WHERE status = $1::"ReviewStatus"`,
    [status],
  );
  return result.rows[0]?.n ?? 0;
}

/** A business's published reviews, newest id first: one statement. */
async function publishedReviews(businessId: string, first: number, after: string | null): Promise<Page<ReviewRow>> {
  const result = await pool.query<ReviewRow>(
    `SELECT ${REVIEW_COLUMNS} ${REVIEW_JOINS}
      WHERE r."businessId" = $1::uuid AND r.status = 'APPROVED' ${after ? "AND r.id < $3::uuid" : ""}
      ORDER BY r.id DESC LIMIT $2`,
    after ? [businessId, first + 1, idOfCursor(after)] : [businessId, first + 1],
  );
  return { rows: result.rows.slice(0, first), hasNextPage: result.rows.length > first };
}

/** Refund requests, oldest purchase first, with payment, business and decider: one statement. */
async function refundRequests(status: string, first: number): Promise<Page<RefundRow>> {
  const result = await pool.query<RefundRow>(
    `SELECT q.id, q.status, q.reason, p."amountCents", p.currency, p."purchasedAt", q."createdAt", q."decidedAt",
            q."denialNote", q."stripeRefundId", q."failureMessage",
            CASE WHEN o.id IS NULL THEN NULL ELSE json_build_object('name', o.name) END AS "decidedBy",
            json_build_object('id', b.id, 'name', b.name) AS business
       FROM "RefundRequest" q
       JOIN "Payment" p ON p.id = q."paymentId"
       JOIN "Business" b ON b.id = q."businessId"
       LEFT JOIN "Operator" o ON o.id = q."decidedById"
      WHERE q.status = $1::"RefundRequestStatus"
      ORDER BY p."purchasedAt", q.id LIMIT $2`,
    [status, first + 1],
  );
  return { rows: result.rows.slice(0, first), hasNextPage: result.rows.length > first };
}

/** The review, its audit event, in one statement; null when the business does not exist. */
async function submitReview(businessId: string, rating: number, body: string) {
  const result = await pool.query<{ id: string; status: string; createdAt: Date }>(
    `WITH business AS (SELECT id FROM "Business" WHERE id = $1::uuid),
          review AS (
            INSERT INTO "Review" (id, "businessId", rating, body, source, status, version, "createdAt")
            SELECT gen_random_uuid(), business.id, $2, $3, 'token:floor', 'PENDING', 0, now() FROM business
            RETURNING id, status, "createdAt"),
          audit AS (
            INSERT INTO "AuditEvent" (id, "actorKind", "actorId", "actorLabel", action, "targetType", "targetId", "createdAt")
            SELECT gen_random_uuid(), 'API_TOKEN', 'floor', 'floor', 'review.submit', 'Review', review.id::text, now() FROM review)
     SELECT id, status, "createdAt" FROM review`,
    [businessId, rating, body.trim()],
  );
  const review = result.rows[0];
  if (!review) return null;
  await jobs.enqueue("score-review", { reviewId: review.id });
  return review;
}

/** The metrics snapshot last parsed, by its version, kept as Steward's API keeps it (core/src/metrics.ts). */
let parsedMetrics: { version: string; metrics: Metrics } | null = null;

/**
 * The overview as Steward reads it: core's one statement, the same text prepared under the same
 * name, the snapshot's JSON parsed only when its version changed, and core's assembly. The floor
 * never rolls the metrics up: the harness does once before the rounds.
 */
async function overview(): Promise<Overview> {
  const statement = overviewStatement(
    parsedMetrics?.version ?? null,
    env.scheduledJobs.map((job) => job.name),
  );
  const result = await pool.query<OverviewRow>({
    text: statement.text,
    values: statement.values,
    name: OVERVIEW_STATEMENT_NAME,
  });
  const row = result.rows[0];
  if (!row?.metricsVersion) throw new Error("No metrics snapshot: roll the metrics up before asking the floor");
  if (row.metricsJson) parsedMetrics = { version: row.metricsVersion, metrics: row.metricsJson };
  const metrics = parsedMetrics?.version === row.metricsVersion ? parsedMetrics.metrics : null;
  // Steward rolls up again here; a floor request racing a newer snapshot's first parse is an error.
  if (!metrics) throw new Error("The metrics snapshot changed under the request");
  return overviewOf(row, metrics, env.scheduledJobs, new Date());
}

// ───────────────────────────── The schema: the fields the documents ask for ─────────────────────────────

/**
 * Per request: a `reviewCount` waiting to be answered by the same request's queue page statement
 * (graphql-js calls root query fields in document order, in one tick).
 */
interface FloorContext {
  pendingCount?: { status: string; claimed: boolean; resolve: (n: number) => void; reject: (error: unknown) => void };
}

interface FloorTypes {
  Context: FloorContext;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date | string }; JSON: { Input: unknown; Output: unknown } };
}
// The API's plugins (prisma, scope-auth) widen Pothos' option type for the whole program when both
// are type-checked together; this builder loads none of them, so their options do not apply.
const builderOptions = { defaultFieldNullability: false } as unknown as ConstructorParameters<
  typeof SchemaBuilder<FloorTypes>
>[0];
const builder = new SchemaBuilder<FloorTypes>(builderOptions);

builder.scalarType("DateTime", {
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(`${value}Z`).toISOString()),
  parseValue: (value) => new Date(String(value)),
});
builder.scalarType("JSON", { serialize: (value) => value, parseValue: (value) => value });

const ReviewStatus = builder.enumType("ReviewStatus", { values: ["PENDING", "APPROVED", "REJECTED"] as const });
const RejectionReason = builder.enumType("RejectionReason", {
  values: ["SPAM", "PROFANITY", "OFF_TOPIC", "OTHER"] as const,
});
const ReviewSort = builder.enumType("ReviewSort", {
  values: ["OLDEST", "NEWEST", "CONFIDENCE_ASC", "CONFIDENCE_DESC", "RATING_ASC", "RATING_DESC"] as const,
});
const RefundRequestStatus = builder.enumType("RefundRequestStatus", {
  values: ["PENDING", "PROCESSING", "APPROVED", "DENIED", "FAILED"] as const,
});

const Region = builder.objectRef<{ id: string; name: string; slug: string }>("Region").implement({
  fields: (t) => ({ id: t.exposeID("id"), name: t.exposeString("name"), slug: t.exposeString("slug") }),
});
const Business = builder.objectRef<ReviewRow["business"]>("Business").implement({
  fields: (t) => ({
    id: t.id({ resolve: (business) => globalId("Business", business.id) }),
    name: t.exposeString("name"),
    region: t.field({ type: Region, resolve: (business) => business.region! }),
  }),
});
const Operator = builder.objectRef<{ name: string; email?: string }>("Operator").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    email: t.string({ resolve: (operator) => operator.email ?? "" }),
  }),
});
const ReviewScore = builder.objectRef<ReviewRow["scores"][number]>("ReviewScore").implement({
  fields: (t) => ({
    classifier: t.exposeString("classifier"),
    confidence: t.exposeFloat("confidence"),
    signals: t.expose("signals", { type: "JSON" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});
const ReviewDecision = builder.objectRef<ReviewRow["decisions"][number]>("ReviewDecision").implement({
  fields: (t) => ({
    action: t.exposeString("action"),
    reason: t.field({ type: RejectionReason, nullable: true, resolve: (d) => d.reason as "SPAM" | null }),
    note: t.exposeString("note", { nullable: true }),
    bulk: t.exposeBoolean("bulk"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    actor: t.field({ type: Operator, nullable: true, resolve: (d) => d.actor }),
  }),
});
const Review = builder.objectRef<ReviewRow>("Review").implement({
  fields: (t) => ({
    id: t.id({ resolve: (review) => globalId("Review", review.id) }),
    rating: t.exposeInt("rating"),
    body: t.exposeString("body"),
    source: t.exposeString("source"),
    status: t.field({ type: ReviewStatus, resolve: (review) => review.status as "PENDING" }),
    aiConfidence: t.exposeFloat("aiConfidence", { nullable: true }),
    aiProvider: t.exposeString("aiProvider", { nullable: true }),
    rejectionReason: t.field({
      type: RejectionReason,
      nullable: true,
      resolve: (review) => review.rejectionReason as "SPAM" | null,
    }),
    suggestedReason: t.field({
      type: RejectionReason,
      nullable: true,
      resolve: (review) => review.suggestedReason as "SPAM" | null,
    }),
    suggestedSignals: t.exposeStringList("suggestedSignals"),
    moderatorNote: t.exposeString("moderatorNote", { nullable: true }),
    decidedAt: t.expose("decidedAt", { type: "DateTime", nullable: true }),
    version: t.exposeInt("version"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    moderator: t.field({ type: Operator, nullable: true, resolve: (review) => review.moderator }),
    business: t.field({ type: Business, resolve: (review) => review.business }),
    scores: t.field({ type: [ReviewScore], resolve: (review) => review.scores }),
    decisions: t.field({ type: [ReviewDecision], resolve: (review) => review.decisions }),
  }),
});

const Eligibility = builder.objectRef<ReturnType<typeof refundEligibility>>("RefundEligibility").implement({
  fields: (t) => ({
    eligible: t.exposeBoolean("eligible"),
    daysElapsed: t.exposeInt("daysElapsed"),
    hoursLeft: t.float({ resolve: (e) => Math.floor(e.msLeft / 360_000) / 10 }),
    expiresSoon: t.exposeBoolean("expiresSoon"),
    closesAt: t.expose("closesAt", { type: "DateTime" }),
  }),
});
const RefundRequest = builder.objectRef<RefundRow>("RefundRequest").implement({
  fields: (t) => ({
    id: t.id({ resolve: (request) => globalId("RefundRequest", request.id) }),
    status: t.field({ type: RefundRequestStatus, resolve: (request) => request.status as "PENDING" }),
    reason: t.exposeString("reason"),
    amountCents: t.exposeInt("amountCents"),
    currency: t.exposeString("currency"),
    purchasedAt: t.expose("purchasedAt", { type: "DateTime" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    decidedAt: t.expose("decidedAt", { type: "DateTime", nullable: true }),
    denialNote: t.exposeString("denialNote", { nullable: true }),
    stripeRefundId: t.exposeString("stripeRefundId", { nullable: true }),
    failureMessage: t.exposeString("failureMessage", { nullable: true }),
    decidedBy: t.field({ type: Operator, nullable: true, resolve: (request) => request.decidedBy }),
    business: t.field({
      type: builder.objectRef<RefundRow["business"]>("RefundBusiness").implement({
        fields: (b) => ({
          id: b.id({ resolve: (business) => globalId("Business", business.id) }),
          name: b.exposeString("name"),
        }),
      }),
      resolve: (request) => request.business,
    }),
    eligibility: t.field({
      type: Eligibility,
      resolve: (request) => refundEligibility(request.purchasedAt, new Date()),
    }),
  }),
});

const PageInfo = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>("PageInfo").implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage"),
    endCursor: t.exposeString("endCursor", { nullable: true }),
  }),
});

/** A relay connection over one page of rows (edges, cursors, pageInfo), as Pothos' relay plugin answers. */
function connection<T extends { id: string }>(
  name: string,
  node: ObjectRef<PothosSchemaTypes.ExtendDefaultTypes<FloorTypes>, T>,
) {
  const Edge = builder.objectRef<T>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.string({ resolve: (row) => cursorOf(row.id) }),
      // The edge is the row itself; Pothos' resolver type cannot see that through the generic T.
      node: t.field({ type: node, resolve: (row) => row as never }),
    }),
  });
  return builder.objectRef<Page<T>>(name).implement({
    fields: (t) => ({
      edges: t.field({ type: [Edge], resolve: (page) => page.rows }),
      pageInfo: t.field({
        type: PageInfo,
        resolve: (page) => ({
          hasNextPage: page.hasNextPage,
          endCursor: page.rows.length > 0 ? cursorOf(page.rows.at(-1)!.id) : null,
        }),
      }),
    }),
  });
}

const ReviewFilter = builder.inputType("ReviewFilter", {
  fields: (t) => ({ status: t.field({ type: ReviewStatus, required: false }) }),
});
const RefundRequestFilter = builder.inputType("RefundRequestFilter", {
  fields: (t) => ({ status: t.field({ type: RefundRequestStatus, required: false }) }),
});

builder.queryType({
  fields: (t) => ({
    reviewCount: t.int({
      args: { filter: t.arg({ type: ReviewFilter }) },
      resolve: (_root, args, context) => {
        const status = args.filter?.status ?? "PENDING";
        return new Promise<number>((resolve, reject) => {
          const pending = { status, claimed: false, resolve, reject };
          context.pendingCount = pending;
          // No queue page in this document took it: count on its own.
          setImmediate(() => {
            if (!pending.claimed) reviewCount(status).then(resolve, reject);
          });
        });
      },
    }),
    reviews: t.field({
      type: connection("QueryReviewsConnection", Review),
      args: {
        first: t.arg.int({ required: true }),
        after: t.arg.string(),
        filter: t.arg({ type: ReviewFilter }),
        sort: t.arg({ type: ReviewSort }),
      },
      resolve: async (_root, args, context) => {
        if (args.sort && args.sort !== "OLDEST") throw new Error("The floor pages the queue oldest first only");
        const status = args.filter?.status ?? "PENDING";
        const count =
          context.pendingCount?.status === status && !context.pendingCount.claimed ? context.pendingCount : null;
        if (count) count.claimed = true;
        try {
          const page = await reviewQueuePage(status, args.first, args.after ?? null, count !== null);
          count?.resolve(page.total ?? 0);
          return page;
        } catch (error) {
          count?.reject(error);
          throw error;
        }
      },
    }),
    publishedReviews: t.field({
      type: connection("QueryPublishedReviewsConnection", Review),
      args: { businessId: t.arg.id({ required: true }), first: t.arg.int({ required: true }), after: t.arg.string() },
      resolve: (_root, args) => publishedReviews(rawId(String(args.businessId)), args.first, args.after ?? null),
    }),
    refundRequests: t.field({
      type: connection("QueryRefundRequestsConnection", RefundRequest),
      args: { first: t.arg.int({ required: true }), filter: t.arg({ type: RefundRequestFilter }) },
      resolve: (_root, args) => refundRequests(args.filter?.status ?? "PENDING", args.first),
    }),
  }),
});

// ───────────────────────────── The overview: the fields the dashboard's Overview document asks for ─────────────────────────────

const Severity = builder.enumType("Severity", { values: ["GREEN", "YELLOW", "RED"] as const });
const HealthStateEnum = builder.enumType("HealthState", { values: ["OK", "FAILING", "UNKNOWN", "CHECKING"] as const });
const MetricsWindow = builder.enumType("MetricsWindow", {
  values: { LAST_7_DAYS: { value: 7 }, LAST_30_DAYS: { value: 30 }, LAST_90_DAYS: { value: 90 } } as const,
});

const DayValueType = builder.objectRef<DayValue>("DayValue").implement({
  fields: (t) => ({ day: t.exposeString("day"), value: t.exposeFloat("value") }),
});
const PeriodAmountType = builder.objectRef<PeriodAmount>("PeriodAmount").implement({
  fields: (t) => ({
    netCents: t.exposeFloat("netCents"),
    previousNetCents: t.exposeFloat("previousNetCents"),
    change: t.exposeFloat("change", { nullable: true }),
  }),
});
const RevenueType = builder.objectRef<RevenueMetric>("RevenueMetric").implement({
  fields: (t) => ({
    currency: t.exposeString("currency"),
    ltm: t.field({ type: PeriodAmountType, resolve: (r) => r.ltm }),
    mtd: t.field({ type: PeriodAmountType, resolve: (r) => r.mtd }),
    wtd: t.field({ type: PeriodAmountType, resolve: (r) => r.wtd }),
    projectedMonthEndCents: t.float({ resolve: (r) => r.mtd.projectedMonthEndCents }),
    daily: t.field({ type: [DayValueType], resolve: (r) => r.daily }),
  }),
});
const HealthCheckType = builder.objectRef<HealthState>("HealthCheckState").implement({
  fields: (t) => ({
    check: t.exposeString("check"),
    state: t.expose("state", { type: HealthStateEnum }),
    checkedAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (h) => (h.checkedAt ? new Date(h.checkedAt) : null),
    }),
    detail: t.exposeString("detail", { nullable: true }),
  }),
});
const RegionBacklogType = builder.objectRef<RegionBacklog>("RegionBacklog").implement({
  fields: (t) => ({
    regionId: t.exposeString("regionId"),
    name: t.exposeString("name"),
    queued: t.exposeInt("queued"),
    active: t.exposeInt("active"),
    slots: t.exposeInt("slots"),
  }),
});
const JobStatusType = builder.objectRef<JobStatusMetric>("JobStatusMetric").implement({
  fields: (t) => ({
    jobName: t.exposeString("jobName"),
    status: t.exposeString("status"),
    startedAt: t.field({ type: "DateTime", resolve: (job) => new Date(job.startedAt) }),
  }),
});
const FeaturedAdoptionType = builder.objectRef<Metrics["featuredAdoption"]>("FeaturedAdoption").implement({
  fields: (t) => ({
    featuredBusinesses: t.exposeInt("featuredBusinesses"),
    businesses: t.exposeInt("businesses"),
    rate: t.exposeFloat("rate"),
    target: t.exposeFloat("target"),
  }),
});
const QueueBacklogType = builder.objectRef<Metrics["queueBacklog"]>("QueueBacklog").implement({
  fields: (t) => ({
    total: t.exposeInt("total"),
    regions: t.field({
      type: [RegionBacklogType],
      args: { first: t.arg.int({ required: false }) },
      resolve: (q, args) => (args.first ? q.regions.slice(0, args.first) : q.regions),
    }),
  }),
});
const RefundRateType = builder.objectRef<Metrics["refundRate"]>("RefundRate").implement({
  fields: (t) => ({
    windowDays: t.exposeInt("windowDays"),
    payments: t.exposeInt("payments"),
    refunded: t.exposeInt("refunded"),
    rate: t.exposeFloat("rate"),
    threshold: t.exposeFloat("threshold"),
  }),
});
const SearchVolumeType = builder.objectRef<Metrics["searchVolume"]>("SearchVolume").implement({
  fields: (t) => ({
    today: t.exposeInt("today"),
    averagePerDay: t.exposeFloat("averagePerDay"),
    change: t.exposeFloat("change", { nullable: true }),
    daily: t.field({ type: [DayValueType], resolve: (s) => s.daily }),
  }),
});
const AiMode = builder.enumType("AiMode", { values: ["provider", "deterministic"] as const });
const AiProviderType = builder.objectRef<Metrics["aiProvider"]>("AiProviderMetric").implement({
  fields: (t) => ({
    mode: t.expose("mode", { type: AiMode }),
    health: t.field({ type: HealthCheckType, resolve: (ai) => ai.health }),
    callsThisMonth: t.exposeInt("callsThisMonth"),
    costThisMonthCents: t.exposeInt("costThisMonthCents"),
    budgetCents: t.exposeInt("budgetCents"),
  }),
});
const JobsMetricType = builder.objectRef<Metrics["jobs"]>("JobsMetric").implement({
  fields: (t) => ({
    failing: t.exposeInt("failing"),
    latest: t.field({ type: [JobStatusType], resolve: (jobs) => jobs.latest }),
  }),
});
const StripeMetricType = builder.objectRef<Metrics["stripe"]>("StripeMetric").implement({
  fields: (t) => ({
    api: t.field({ type: HealthCheckType, resolve: (s) => s.api }),
    webhooks: t.field({ type: HealthCheckType, resolve: (s) => s.webhooks }),
  }),
});
const MetricsType = builder.objectRef<Metrics>("Metrics").implement({
  fields: (t) => ({
    computedAt: t.field({ type: "DateTime", resolve: (m) => new Date(m.computedAt) }),
    timeZone: t.exposeString("timeZone"),
    today: t.exposeString("today"),
    revenue: t.field({ type: [RevenueType], resolve: (m) => m.revenue }),
    featuredAdoption: t.field({ type: FeaturedAdoptionType, resolve: (m) => m.featuredAdoption }),
    queueBacklog: t.field({ type: QueueBacklogType, resolve: (m) => m.queueBacklog }),
    refundRate: t.field({ type: RefundRateType, resolve: (m) => m.refundRate }),
    searchVolume: t.field({ type: SearchVolumeType, resolve: (m) => m.searchVolume }),
    aiProvider: t.field({ type: AiProviderType, resolve: (m) => m.aiProvider }),
    jobs: t.field({ type: JobsMetricType, resolve: (m) => m.jobs }),
    stripe: t.field({ type: StripeMetricType, resolve: (m) => m.stripe }),
  }),
});

const OverviewAlertStatus = builder.enumType("OverviewAlertStatus", {
  values: ["FIRING", "ACKNOWLEDGED", "RESOLVED"] as const,
});
const OverviewAlertType = builder.objectRef<Alert>("OverviewAlert").implement({
  fields: (t) => ({
    id: t.exposeString("id"),
    severity: t.expose("severity", { type: Severity }),
    status: t.expose("status", { type: OverviewAlertStatus }),
    title: t.exposeString("title"),
    detail: t.exposeString("detail"),
    count: t.exposeInt("count"),
    firstSeenAt: t.expose("firstSeenAt", { type: "DateTime" }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime" }),
  }),
});
const PendingTaskKind = builder.enumType("PendingTaskKind", {
  values: ["ALERTS", "REFUNDS", "RECONCILIATION", "DISPUTES", "JOBS", "REVIEWS"] as const,
});
const PendingTaskType = builder.objectRef<PendingTask>("PendingTask").implement({
  fields: (t) => ({
    kind: t.expose("kind", { type: PendingTaskKind }),
    label: t.exposeString("label"),
    count: t.exposeInt("count"),
    estimatedMinutes: t.exposeInt("estimatedMinutes"),
    priority: t.exposeInt("priority"),
    href: t.exposeString("href"),
  }),
});
const JobDueType = builder.objectRef<Overview["jobsDue"][number]>("JobDue").implement({
  fields: (t) => ({
    name: t.exposeString("name"),
    state: t.exposeString("state"),
    lastSuccessAt: t.expose("lastSuccessAt", { type: "DateTime", nullable: true }),
  }),
});
// Steward's is a relay node (WeeklyCheckup); its global id is spelled the same way here.
const WeeklyCheckupType = builder.objectRef<CheckupReport>("WeeklyCheckup").implement({
  fields: (t) => ({
    id: t.id({ resolve: (report) => globalId("WeeklyCheckup", report.id) }),
    overall: t.expose("overall", { type: Severity }),
    summary: t.exposeString("summary"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});
const OverviewType = builder.objectRef<Overview>("Overview").implement({
  fields: (t) => ({
    status: t.expose("status", { type: Severity }),
    statusCauses: t.exposeStringList("statusCauses"),
    jobsDue: t.field({ type: [JobDueType], resolve: (o) => o.jobsDue }),
    openAlerts: t.field({ type: [OverviewAlertType], resolve: (o) => o.openAlerts }),
    recentAlerts: t.field({ type: [OverviewAlertType], resolve: (o) => o.recentAlerts }),
    pendingTasks: t.field({ type: [PendingTaskType], resolve: (o) => o.pendingTasks }),
    health: t.field({ type: [HealthCheckType], resolve: (o) => o.health }),
    lastCheckup: t.field({ type: WeeklyCheckupType, nullable: true, resolve: (o) => o.lastCheckup }),
    metrics: t.field({ type: MetricsType, resolve: (o) => o.metrics }),
  }),
});

builder.queryFields((t) => ({
  overview: t.field({
    type: OverviewType,
    args: { window: t.arg({ type: MetricsWindow, required: false }) },
    resolve: async (_root, args) => {
      const loaded = await overview();
      return { ...loaded, metrics: withWindow(loaded.metrics, args.window ?? 30) };
    },
  }),
}));

const ErrorInterface = builder.interfaceRef<{ message: string }>("Error").implement({
  fields: (t) => ({ message: t.exposeString("message") }),
});
const NotFound = builder.objectRef<{ message: string }>("NotFoundError").implement({
  interfaces: [ErrorInterface],
  isTypeOf: (value) => typeof value === "object" && value !== null && "message" in value,
});
const SubmitSuccess = builder
  .objectRef<{ data: { id: string; status: string; createdAt: Date } }>("MutationSubmitReviewSuccess")
  .implement({
    isTypeOf: (value) => typeof value === "object" && value !== null && "data" in value,
    fields: (t) => ({
      data: t.field({
        type: builder.objectRef<{ id: string; status: string; createdAt: Date }>("SubmittedReview").implement({
          fields: (r) => ({
            id: r.id({ resolve: (review) => globalId("Review", review.id) }),
            status: r.field({ type: ReviewStatus, resolve: (review) => review.status as "PENDING" }),
            createdAt: r.expose("createdAt", { type: "DateTime" }),
          }),
        }),
        resolve: (success) => success.data,
      }),
    }),
  });
const SubmitResult = builder.unionType("MutationSubmitReviewResult", { types: [SubmitSuccess, NotFound] });

builder.mutationType({
  fields: (t) => ({
    submitReview: t.field({
      type: SubmitResult,
      args: {
        businessId: t.arg.id({ required: true }),
        rating: t.arg.int({ required: true }),
        body: t.arg.string({ required: true }),
      },
      resolve: async (_root, args) => {
        const review = await submitReview(rawId(String(args.businessId)), args.rating, args.body);
        return review ? { data: review } : { message: "No such business" };
      },
    }),
  }),
});

const yoga = createYoga({
  schema: builder.toSchema(),
  context: (): FloorContext => ({}),
  graphqlEndpoint: "/graphql",
  logging: false,
  maskedErrors: false,
});

// ───────────────────────────── The webhook endpoint, by hand ─────────────────────────────

const TOLERANCE_SECONDS = 300; // Stripe's default

/** Stripe's scheme: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, within the tolerance. */
function signatureValid(header: string | undefined, body: Buffer): boolean {
  if (!header) return false;
  const parts = new Map(header.split(",").map((part) => part.split("=", 2) as [string, string]));
  const timestamp = Number(parts.get("t"));
  const signature = parts.get("v1");
  if (!signature || !Number.isFinite(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = createHmac("sha256", env.webhookSecret).update(`${timestamp}.`).update(body).digest();
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function stripeWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  if (!signatureValid(req.headers["stripe-signature"] as string | undefined, body)) {
    res.writeHead(400, { "content-type": "application/json" }).end('{"error":"bad signature"}');
    return;
  }
  const event = JSON.parse(body.toString("utf8")) as { id: string; type: string; data?: { object?: { id?: string } } };
  await pool.query(
    `INSERT INTO "StripeWebhookEvent" (id, type, "objectId", payload) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO NOTHING`,
    [event.id, event.type, event.data?.object?.id ?? null, body.toString("utf8")],
  );
  await jobs.enqueue("stripe-event", { eventId: event.id });
  res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
}

// ───────────────────────────── HTTP ─────────────────────────────

const server = createServer((req, res) => {
  if (req.url === "/webhooks/stripe" && req.method === "POST") {
    stripeWebhook(req, res).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) res.writeHead(500).end();
    });
    return;
  }
  if (req.url === "/readyz") {
    res.writeHead(200).end("ok");
    return;
  }
  void yoga.handle(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(env.port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`floor listening on ${typeof address === "object" && address ? address.port : env.port}`);
});

async function shutdown(): Promise<void> {
  server.close();
  server.closeAllConnections();
  await jobs.close();
  await pool.end();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
