// Text search in the review queue (issue 18 point 3: "fast at 1M reviews"): the dashboard's
// `Reviews` query with a search (`reviewCount` + the first page of `reviews`, relations included),
// one request at a time over the real API in its own process, for words in review bodies (rare,
// common), a business name and a word nothing has. Floor, same run, same terms: the bare SQL of the
// same page and count through pg.
import { performance } from "node:perf_hooks";
import { hashPassword } from "@steward/core/passwords";
import type { Db } from "@steward/db/client";
import pg from "pg";
import { freePort } from "../../scripts/lib/services.ts";
import { waitForHttp } from "../../scripts/lib/run.ts";
import { benchProcessEnv, signIn } from "./api.ts";
import { quantile, startNodeProcess, stopNodeProcess } from "./load.ts";
import type { BenchRow } from "./table.ts";

const PAGE_SIZE = 50; // the dashboard's page
const PASSWORD = "bench-review-search-password";
const BUSINESSES = 2_000;
const ROUNDS = 15;

// web/src/routes/(app)/reviews/review-operations.ts, ReviewsQuery with ReviewFields inlined.
const SEARCH_QUERY = `query Reviews($first: Int!, $filter: ReviewFilter) {
  reviewCount(filter: $filter)
  reviews(first: $first, filter: $filter) {
    edges { node {
      id rating body source status aiConfidence aiProvider rejectionReason moderatorNote decidedAt version createdAt
      suggestedReason suggestedSignals
      moderator { name email }
      business { id name region { id name slug } }
      scores { classifier confidence signals createdAt }
      decisions { action reason note bulk createdAt actor { name } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

// The best plain SQL for it: the businesses named first, then the page and the count with one OR
// both halves of which are indexed (body trigram index, businessId index), as core/src/reviews.ts asks.
const FLOOR_BUSINESSES = `SELECT coalesce(array_agg(id), '{}') AS ids FROM "Business" WHERE name ILIKE $1`;
const FLOOR_WHERE = `r.status = 'PENDING' AND (r.body ILIKE $1 OR r."businessId" = ANY($2::uuid[]))`;
const FLOOR_PAGE = `SELECT r.* FROM "Review" r WHERE ${FLOOR_WHERE} ORDER BY r."createdAt", r.id LIMIT ${PAGE_SIZE + 1}`;
const FLOOR_COUNT = `SELECT count(*)::int AS n FROM "Review" r WHERE ${FLOOR_WHERE}`;

/** The floor's three statements; the count. */
async function floorSearch(client: pg.Client, term: string): Promise<number> {
  const pattern = `%${term}%`;
  const { rows } = await client.query<{ ids: string[] }>(FLOOR_BUSINESSES, [pattern]);
  const ids = rows[0]?.ids ?? [];
  await client.query(FLOOR_PAGE, [pattern, ids]);
  const count = await client.query<{ n: number }>(FLOOR_COUNT, [pattern, ids]);
  return count.rows[0]?.n ?? 0;
}

// Bodies from a small vocabulary, so each word's share is known: "recall" in 1 of 5 reviews,
// "harness" in 1 of 997, business names "<Word> Dog School <n>".
const SEED = (reviews: number) => `
  WITH words AS (SELECT ARRAY['recall', 'leash', 'puppy', 'crate', 'agility'] AS common,
                        ARRAY['patient', 'friendly', 'late', 'clear', 'noisy', 'calm', 'expensive'] AS tone)
  INSERT INTO "Review" (id, "businessId", rating, body, source, status, "aiConfidence", "createdAt")
  SELECT gen_random_uuid(), b.id, 1 + (g % 5),
         'Session ' || g || ': worked on ' || common[1 + g % 5] || ', the trainer was ' || tone[1 + g % 7]
           || CASE WHEN g % 997 = 0 THEN ', bought a harness' ELSE '' END || '.',
         'bench', 'PENDING', 0.5, now() - (g || ' seconds')::interval
    FROM generate_series(1, ${reviews}) g
    CROSS JOIN words
    JOIN "Business" b ON b.email = 'search-' || (g % ${BUSINESSES}) || '@bench.example'`;

const TERMS = [
  { term: "harness", what: "rare word" },
  { term: "recall", what: "common word" },
  { term: "Wagtail Dog School 15", what: "business name" },
  { term: "zebra", what: "no match" },
] as const;

function post(apiUrl: string, cookie: string, search: string): Promise<{ count: number; edges: number }> {
  return fetch(`${apiUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ query: SEARCH_QUERY, variables: { first: PAGE_SIZE, filter: { search } } }),
  })
    .then((response) => response.json())
    .then((body: { data?: { reviewCount: number; reviews: { edges: unknown[] } }; errors?: unknown }) => {
      if (!body.data) throw new Error(`review search bench: ${JSON.stringify(body.errors)}`);
      return { count: body.data.reviewCount, edges: body.data.reviews.edges.length };
    });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export async function benchReviewSearch(db: Db, databaseUrl: string, reviews: number): Promise<BenchRow[]> {
  const region = await db.region.create({ data: { slug: `search-bench-${Date.now()}`, name: "Search bench" } });
  const names = ["Wagtail", "Good Dog", "Heel", "Sit Stay", "Pawsitive"];
  await db.$executeRawUnsafe(`
    INSERT INTO "Business" (id, "regionId", name, email)
    SELECT gen_random_uuid(), '${region.id}', (ARRAY['${names.join("','")}'])[1 + g % ${names.length}] || ' Dog School ' || g,
           'search-' || g || '@bench.example'
      FROM generate_series(0, ${BUSINESSES - 1}) g`);
  await db.$executeRawUnsafe(`ANALYZE "Business"`);
  await db.$executeRawUnsafe(SEED(reviews));
  await db.$executeRawUnsafe(`VACUUM ANALYZE "Review"`);
  // Every review in the table is searched (the full run's `reviews` benchmark leaves its own too).
  const [{ total } = { total: reviews }] = await db.$queryRawUnsafe<{ total: number }[]>(
    `SELECT count(*)::int AS total FROM "Review"`,
  );
  await db.operator.create({
    data: {
      email: "search-bench@steward.test",
      name: "Search bench",
      role: "OPERATOR",
      passwordHash: await hashPassword(PASSWORD),
    },
  });

  const port = await freePort();
  const api = startNodeProcess("api/src/main.ts", benchProcessEnv(databaseUrl, "search", port), "api");
  const apiUrl = `http://127.0.0.1:${port}`;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await waitForHttp(`${apiUrl}/readyz`);
    const cookie = await signIn(apiUrl, "search-bench@steward.test", PASSWORD);
    const matches: string[] = [];
    // Both sides agree on what each term finds (and warm up).
    for (const { term, what } of TERMS) {
      const answer = await post(apiUrl, cookie, term);
      const floor = await floorSearch(client, term);
      if (answer.count !== floor)
        throw new Error(`review search bench: "${term}" counted ${answer.count} by the API, ${floor} in SQL`);
      matches.push(`${what} "${term}" ${answer.count}`);
    }
    const apiTimes: number[] = [];
    const floorTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++)
      for (const { term } of TERMS) {
        apiTimes.push(await timed(() => post(apiUrl, cookie, term)));
        floorTimes.push(await timed(() => floorSearch(client, term)));
      }
    apiTimes.sort((a, b) => a - b);
    floorTimes.sort((a, b) => a - b);
    const name = `review search (Reviews query: count + first page), ${total.toLocaleString("en-US")} reviews, one at a time`;
    const note = `${TERMS.length} terms × ${ROUNDS}; matches: ${matches.join(", ")}`;
    return [
      {
        name: `${name}, p50`,
        value: quantile(apiTimes, 0.5),
        unit: "ms",
        floor: quantile(floorTimes, 0.5),
        floorName: "bare SQL: businesses named, page, count",
        note,
      },
      {
        name: `${name}, p99`,
        value: quantile(apiTimes, 0.99),
        unit: "ms",
        floor: quantile(floorTimes, 0.99),
        floorName: "bare SQL, same statements",
      },
    ];
  } finally {
    await client.end();
    await stopNodeProcess(api);
  }
}
