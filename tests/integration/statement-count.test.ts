// How many SQL statements each dashboard and integration operation sends, session or token lookup
// included, counted where every statement leaves the process: pg's Client#query (Prisma's pg
// adapter sends each statement through it, pooled or in a transaction). The ceilings below are
// what the API sends today; an N+1 (a statement per row) or a new lookup per request fails here.
// Measured on demo data (scripts/seed/demo.ts), so every relation a document asks for has rows.
import { createApiToken } from "@steward/core/apiTokens";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_OPERATORS, DEMO_PASSWORD, seed } from "../../scripts/seed/demo.ts";
import { PUBLISHED_REVIEWS, SUBMIT_REVIEW } from "../../bench/src/integration-documents.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { dashboardOperations } from "../support/dashboard-documents.ts";

/**
 * Ceilings, statements per request, measured on a second request with the same credentials: the
 * API instance then knows the session or token (api/src/sessionCache.ts), so it costs nothing; a
 * cold lookup is one statement (held below).
 *
 * | operation                                 | auth   | statements | of which                                              |
 * |-------------------------------------------|--------|------------|-------------------------------------------------------|
 * | `{ __typename }` (the session alone)      | cookie | 0          | session cached                                        |
 * | Me                                        | cookie | 1          | operator 1                                            |
 * | Reviews, first page of 50                 | cookie | 2          | the page with its relations 1, count 1                |
 * | Reviews, page after a cursor              | cookie | 2          | the page (the cursor row joined in) 1, count 1        |
 * | ReviewQueueStats                          | cookie | 5          | counts 4, suggestion overrides 1                      |
 * | BulkApprovableCount                       | cookie | 1          | count 1                                               |
 * | RefundRequests, 50 pending                | cookie | 1          | rows with payment/decidedBy/business 1                |
 * | Overview                                  | cookie | 1          | every read in one prepared statement                  |
 * | publishedReviews, 50 (integration)        | bearer | 1          | rows with their business 1                            |
 * | submitReview                              | bearer | 1          | business, review and audit in one statement           |
 * | queuePosition                             | bearer | 2          | business 1, placements 1                              |
 *
 * Pages read their relations in the same statement: the Reviews page, its count, RefundRequests and
 * publishedReviews are hand-written statements (core/src/reads/), the rest Prisma's relationJoins.
 * Before those, the first Reviews page took 9 statements, RefundRequests 6, publishedReviews 3. The
 * session or token lookup took one statement on every request before the credential cache.
 *
 * The Reviews page's count ("Showing 50 of 120"), the queue stats' suggestion overrides and the
 * overview's jobs due each added one statement when they came (issue 18); the overview's seven
 * reads became one statement (issue 19: its round trips were a quarter of its CPU at 1M rows).
 *
 * Lower a ceiling when a change sends fewer statements; raising one needs a reason in review.
 */
const CEILINGS = {
  "{ __typename }": 0,
  Me: 1,
  "Reviews (first page)": 2,
  "Reviews (after a cursor)": 2,
  ReviewQueueStats: 5,
  BulkApprovableCount: 1,
  RefundRequests: 1,
  Overview: 1,
  publishedReviews: 1,
  submitReview: 1,
  queuePosition: 2,
} as const;

/** A session or token this API instance has not seen yet: one statement (Session ⋈ Operator, only the actor's columns). */
const COLD_CREDENTIAL_LOOKUP = 1;

type OperationName = keyof typeof CEILINGS;

let api: TestApi;
let cookie: string;
let bearer: string;
let businessId: string;
const counted = { database: "", statements: [] as string[] };

/** Every statement a pg Client in this process sends to the API's database, while `counted.database` is set. */
function installCounter(): () => void {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (counted.database && this.database === counted.database) {
      const first = args[0];
      const text = typeof first === "string" ? first : (first as { text?: string } | undefined)?.text;
      counted.statements.push(text ?? "(unknown)");
    }
    return original.apply(this, args);
  };
  return () => {
    prototype.query = original;
  };
}

let uninstall: () => void;

const dashboard = new Map(dashboardOperations().map((operation) => [operation.name, operation.source]));
const documentOf = (name: string) => {
  const source = dashboard.get(name);
  if (!source) throw new Error(`The dashboard has no operation ${name}`);
  return source;
};

const QUEUE_POSITION = `query QueuePosition($businessId: ID!) {
  queuePosition(businessId: $businessId) {
    __typename
    ... on QueryQueuePositionSuccess { data { status position } }
  }
}`;

/** Sends one request and returns the statements it caused, the ones it left running included. */
async function statementsOf(
  query: string,
  variables: Record<string, unknown>,
  auth: { cookie?: string; bearer?: string },
): Promise<{ count: number; statements: string[]; data: Record<string, unknown> | undefined }> {
  counted.statements = [];
  counted.database = new URL(api.database.url).pathname.slice(1);
  const result = await api.graphql(query, variables, auth);
  // A fire-and-forget statement of this request (a token's lastUsedAt) still counts.
  await new Promise((resolve) => setTimeout(resolve, 100));
  counted.database = "";
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  expect(result.status).toBe(200);
  return { count: counted.statements.length, statements: counted.statements, data: result.data };
}

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

beforeAll(async () => {
  api = await startTestApi();
  const db = api.database.db;
  await seed(db);
  const admin = await db.operator.findFirstOrThrow({ where: { role: "ADMIN" } });
  const actor = { kind: "OPERATOR" as const, id: admin.id, email: admin.email, name: admin.name, role: admin.role };
  bearer = (await createApiToken({ db }, actor, { name: "statement count", scopes: ["read", "reviews:write"] })).token;
  // The demo publishes nothing yet: a business with a page of published reviews (and one more).
  const business = await db.business.findFirstOrThrow({ orderBy: { name: "asc" } });
  await db.review.createMany({
    data: Array.from({ length: 51 }, (_, index) => ({
      businessId: business.id,
      rating: 1 + (index % 5),
      body: `Published review ${index}: a calmer dog and a clear trainer.`,
      source: "integration",
      status: "APPROVED" as const,
      decidedAt: new Date(),
    })),
  });
  businessId = gid("Business", business.id);
  cookie = await api.loginCookie(DEMO_OPERATORS[1].email, DEMO_PASSWORD);
  uninstall = installCounter();
}, 120_000);

afterAll(async () => {
  uninstall?.();
  await api?.stop();
});

type Request = { query: string; variables: Record<string, unknown>; auth: { cookie?: string; bearer?: string } };

const requests: Record<OperationName, () => Promise<Request>> = {
  "{ __typename }": () => Promise.resolve({ query: "{ __typename }", variables: {}, auth: { cookie } }),
  Me: () => Promise.resolve({ query: documentOf("Me"), variables: {}, auth: { cookie } }),
  "Reviews (first page)": () =>
    Promise.resolve({ query: documentOf("Reviews"), variables: { first: 50 }, auth: { cookie } }),
  "Reviews (after a cursor)": async () => {
    const first = await api.graphql<{ reviews: { pageInfo: { endCursor: string } } }>(
      documentOf("Reviews"),
      { first: 5 },
      { cookie },
    );
    return {
      query: documentOf("Reviews"),
      variables: { first: 50, after: first.data!.reviews.pageInfo.endCursor },
      auth: { cookie },
    };
  },
  ReviewQueueStats: () => Promise.resolve({ query: documentOf("ReviewQueueStats"), variables: {}, auth: { cookie } }),
  BulkApprovableCount: () =>
    Promise.resolve({ query: documentOf("BulkApprovableCount"), variables: {}, auth: { cookie } }),
  RefundRequests: () =>
    Promise.resolve({ query: documentOf("RefundRequests"), variables: { first: 50 }, auth: { cookie } }),
  Overview: () => Promise.resolve({ query: documentOf("Overview"), variables: {}, auth: { cookie } }),
  publishedReviews: () =>
    Promise.resolve({ query: PUBLISHED_REVIEWS, variables: { businessId, first: 50 }, auth: { bearer } }),
  submitReview: () =>
    Promise.resolve({
      query: SUBMIT_REVIEW,
      variables: { businessId, rating: 5, body: "Counted statements, and a calmer dog at the end of it." },
      auth: { bearer },
    }),
  queuePosition: () => Promise.resolve({ query: QUEUE_POSITION, variables: { businessId }, auth: { bearer } }),
};

describe("SQL statements per request", () => {
  for (const name of Object.keys(CEILINGS) as OperationName[]) {
    it(`${name}: at most ${CEILINGS[name]}`, async () => {
      const request = await requests[name]();
      // Once unmeasured: the first use of a token also records its lastUsedAt (once a minute).
      await statementsOf(request.query, request.variables, request.auth);
      const measured = await statementsOf(request.query, request.variables, request.auth);
      expect(measured.count, measured.statements.join("\n")).toBeLessThanOrEqual(CEILINGS[name]);
    });
  }

  it(`a session this instance has not seen yet: ${COLD_CREDENTIAL_LOOKUP} statement`, async () => {
    const fresh = await api.loginCookie(DEMO_OPERATORS[1].email, DEMO_PASSWORD);
    const cold = await statementsOf("{ __typename }", {}, { cookie: fresh });
    // Zero would mean the counter missed the API's statements (or the login left it cached), not a fast API.
    expect(cold.count, cold.statements.join("\n")).toBe(COLD_CREDENTIAL_LOOKUP);
    expect((await statementsOf("{ __typename }", {}, { cookie: fresh })).count).toBe(0);
  });
});
