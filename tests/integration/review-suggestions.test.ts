// Suggested decisions through the GraphQL API: the worker's score stores the reason its signals
// point at; "reject the suggested" acts on every match of a filter (not only a page), each review
// with its own reason, after a per-reason preview; it is audited per review, reversible, and an
// operator's disagreement shows in the override rates. Plus the queue's text search and count.
import { createApiToken } from "@steward/core/apiTokens";
import { createLogger } from "@steward/core/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobCatalog } from "../../worker/src/registry.ts";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { MAX_SEARCH_BUSINESSES } from "@steward/core/reviews";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let api: TestApi;
let worker: StewardWorker;
let operatorCookie: string;
let viewerCookie: string;
let writerToken: string;
let businessGlobalId: string;

const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
const rawId = (global: string) => Buffer.from(global, "base64").toString("utf8").split(":")[1]!;

const SUBMIT = `mutation ($businessId: ID!, $rating: Int!, $body: String!) {
  submitReview(businessId: $businessId, rating: $rating, body: $body) {
    __typename
    ... on MutationSubmitReviewSuccess { data { id } }
    ... on Error { message }
  }
}`;
const REVIEW = `query ($id: ID!) { review(id: $id) { status aiConfidence suggestedReason suggestedSignals rejectionReason } }`;
const PREVIEW = `query ($input: BulkReviewDecisionInput!) {
  bulkReviewDecisionPreview(input: $input) { total skipped byReason { reason count } }
}`;
const DECIDE = `mutation ($input: BulkReviewDecisionInput!, $limit: Int) {
  decideReviewsInBulk(input: $input, limit: $limit) {
    __typename
    ... on MutationDecideReviewsInBulkSuccess { data { decided remaining byReason { reason count } } }
    ... on Error { message }
  }
}`;
const REOPEN = `mutation ($id: ID!, $reason: String!) { reopenReview(id: $id, reason: $reason) { __typename ... on Error { message } } }`;
const APPROVE = `mutation ($id: ID!) { approveReview(id: $id) { __typename ... on Error { message } } }`;
const STATS = `{ reviewQueueStats { pending suggestionOverrides { reason decisions overridden } } }`;
const SEARCH = `query ($filter: ReviewFilter, $sort: ReviewSort) {
  reviewCount(filter: $filter)
  reviews(first: 100, filter: $filter, sort: $sort) { edges { node { id body aiConfidence } } }
}`;

type Counts = { reason: string; count: number }[];
const countsOf = (rows: Counts) =>
  Object.fromEntries(rows.filter((row) => row.count > 0).map((row) => [row.reason, row.count]));

const BODIES = {
  spam: "Cheap pills online visit http://spam.example now best prices",
  offTopic: "Does anyone know a good plumber around here? Unrelated but asking.",
  profane: "This shit trainer was useless and the class was crap",
  good: "Our puppy learned to sit and stay in two sessions with a patient trainer.",
};

async function submit(body: string): Promise<string> {
  const result = await api.graphql<{ submitReview: { __typename: string; data?: { id: string } } }>(
    SUBMIT,
    { businessId: businessGlobalId, rating: 2, body },
    { bearer: writerToken },
  );
  expect(result.data?.submitReview.__typename).toBe("MutationSubmitReviewSuccess");
  return result.data!.submitReview.data!.id;
}

async function review(id: string) {
  const result = await api.graphql<{
    review: {
      status: string;
      aiConfidence: number | null;
      suggestedReason: string | null;
      suggestedSignals: string[];
      rejectionReason: string | null;
    };
  }>(REVIEW, { id }, { cookie: operatorCookie });
  return result.data!.review;
}

async function scored(id: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = await review(id);
    if (current.aiConfidence !== null) return current;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`review ${id} was never scored`);
}

beforeAll(async () => {
  api = await startTestApi({ AI_MODE: "deterministic" });
  const { db } = api.database;
  const admin = await createOperator(db, "ADMIN", "admin@test.example");
  await createOperator(db, "OPERATOR", "olive@test.example");
  await createOperator(db, "VIEWER", "vic@test.example");
  const region = await db.region.create({ data: { slug: "yarra", name: "City of Yarra" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: "Loose Lead Academy Yarra", email: "ll@example.com" },
  });
  businessGlobalId = globalId("Business", business.id);
  const adminActor = {
    kind: "OPERATOR" as const,
    id: admin.id,
    email: admin.email,
    name: admin.name,
    role: admin.role,
  };
  writerToken = (await createApiToken({ db }, adminActor, { name: "marketplace", scopes: ["reviews:write"] })).token;
  operatorCookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
  viewerCookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
  worker = buildWorker(api.env, createLogger("worker-test", "silent"), jobCatalog(api.env));
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await api?.stop();
});

describe("suggested decisions", () => {
  const ids: Record<keyof typeof BODIES, string> = { spam: "", offTopic: "", profane: "", good: "" };

  it("stores the classifier's suggested reason and its signals with the score", async () => {
    for (const key of Object.keys(BODIES) as (keyof typeof BODIES)[]) ids[key] = await submit(BODIES[key]);
    const spam = await scored(ids.spam);
    expect(spam.suggestedReason).toBe("SPAM");
    expect(spam.suggestedSignals[0]).toMatch(/^(LINK|SPAM_PHRASE): /);
    expect((await scored(ids.offTopic)).suggestedReason).toBe("OFF_TOPIC");
    expect((await scored(ids.profane)).suggestedReason).toBe("PROFANITY");
    // A confident review carries no suggestion.
    expect(await scored(ids.good)).toMatchObject({ suggestedReason: null, suggestedSignals: [] });
  });

  it("previews per reason, then rejects every suggested match with its own reason, audited per review", async () => {
    const input = { filter: { status: "PENDING" }, action: "REJECT", reason: "SUGGESTED" };
    const preview = await api.graphql<{
      bulkReviewDecisionPreview: { total: number; skipped: number; byReason: Counts };
    }>(PREVIEW, { input }, { cookie: viewerCookie });
    expect(preview.errors).toBeUndefined();
    expect(preview.data!.bulkReviewDecisionPreview.total).toBe(3);
    expect(preview.data!.bulkReviewDecisionPreview.skipped).toBe(1);
    expect(countsOf(preview.data!.bulkReviewDecisionPreview.byReason)).toEqual({ SPAM: 1, OFF_TOPIC: 1, PROFANITY: 1 });

    // A viewer may look but not decide; nothing changes.
    const refused = await api.graphql(DECIDE, { input }, { cookie: viewerCookie });
    expect(JSON.stringify(refused)).toMatch(/not allowed|Forbidden|FORBIDDEN|NOT_AUTHORIZED/i);
    expect((await review(ids.spam)).status).toBe("PENDING");

    // Two batches of at most 2: the filter, not a page, decides what is taken.
    const first = await api.graphql<{ decideReviewsInBulk: { data: { decided: number; remaining: number } } }>(
      DECIDE,
      { input, limit: 2 },
      { cookie: operatorCookie },
    );
    expect(first.errors, JSON.stringify(first.errors)).toBeUndefined();
    expect(first.data!.decideReviewsInBulk.data).toMatchObject({ decided: 2, remaining: 1 });
    const second = await api.graphql<{ decideReviewsInBulk: { data: { decided: number; remaining: number } } }>(
      DECIDE,
      { input, limit: 2 },
      { cookie: operatorCookie },
    );
    expect(second.data!.decideReviewsInBulk.data).toMatchObject({ decided: 1, remaining: 0 });

    expect(await review(ids.spam)).toMatchObject({ status: "REJECTED", rejectionReason: "SPAM" });
    expect(await review(ids.offTopic)).toMatchObject({ status: "REJECTED", rejectionReason: "OFF_TOPIC" });
    expect(await review(ids.profane)).toMatchObject({ status: "REJECTED", rejectionReason: "PROFANITY" });
    expect((await review(ids.good)).status).toBe("PENDING");

    const audits = await api.database.db.auditEvent.findMany({
      where: { action: "review.reject", targetId: { in: [rawId(ids.spam), rawId(ids.offTopic), rawId(ids.profane)] } },
    });
    expect(audits).toHaveLength(3);
    expect(audits.map((audit) => (audit.after as { reason: string }).reason).sort()).toEqual([
      "OFF_TOPIC",
      "PROFANITY",
      "SPAM",
    ]);
    expect(audits.every((audit) => audit.actorLabel.includes("olive@test.example"))).toBe(true);
  });

  it("counts an override per suggested reason: a reopened suggested rejection, an approval against a suggestion", async () => {
    const reopened = await api.graphql<{ reopenReview: { __typename: string } }>(
      REOPEN,
      { id: ids.profane, reason: "Harsh but a real customer's experience" },
      { cookie: operatorCookie },
    );
    expect(reopened.data!.reopenReview.__typename).toBe("MutationReopenReviewSuccess");
    const approved = await api.graphql<{ approveReview: { __typename: string } }>(
      APPROVE,
      { id: ids.profane },
      { cookie: operatorCookie },
    );
    expect(approved.data!.approveReview.__typename).toBe("MutationApproveReviewSuccess");

    const stats = await api.graphql<{
      reviewQueueStats: { suggestionOverrides: { reason: string; decisions: number; overridden: number }[] };
    }>(STATS, {}, { cookie: viewerCookie });
    const byReason = Object.fromEntries(
      stats.data!.reviewQueueStats.suggestionOverrides.map((row) => [row.reason, [row.overridden, row.decisions]]),
    );
    // PROFANITY: the bulk rejection (later reopened) and the approval, both overrides.
    expect(byReason).toEqual({ SPAM: [0, 1], PROFANITY: [2, 2], OFF_TOPIC: [0, 1], OTHER: [0, 0] });
  });

  it("refuses a bulk decision without a target or a reason, and changes nothing", async () => {
    const noTarget = await api.graphql<{ decideReviewsInBulk: { __typename: string; message?: string } }>(
      DECIDE,
      { input: { action: "APPROVE" } },
      { cookie: operatorCookie },
    );
    expect(noTarget.data!.decideReviewsInBulk.__typename).toBe("InvalidInputError");
    const noReason = await api.graphql<{ decideReviewsInBulk: { __typename: string } }>(
      DECIDE,
      { input: { ids: [ids.good], action: "REJECT" } },
      { cookie: operatorCookie },
    );
    expect(noReason.data!.decideReviewsInBulk.__typename).toBe("InvalidInputError");
    expect((await review(ids.good)).status).toBe("PENDING");
  });
});

describe("finding reviews", () => {
  it("searches bodies and business names, counts every match, and sorts by confidence", async () => {
    const byBody = await api.graphql<{ reviewCount: number; reviews: { edges: { node: { body: string } }[] } }>(
      SEARCH,
      { filter: { status: "REJECTED", search: "PLUMBER" } },
      { cookie: viewerCookie },
    );
    expect(byBody.errors).toBeUndefined();
    expect(byBody.data!.reviewCount).toBe(1);
    expect(byBody.data!.reviews.edges.map((edge) => edge.node.body)).toEqual([BODIES.offTopic]);

    const byBusiness = await api.graphql<{ reviewCount: number }>(
      SEARCH,
      { filter: { status: "REJECTED", search: "loose lead" } },
      { cookie: viewerCookie },
    );
    expect(byBusiness.data!.reviewCount).toBe(2);

    const sorted = await api.graphql<{ reviews: { edges: { node: { aiConfidence: number } }[] } }>(
      SEARCH,
      { filter: { status: "REJECTED" }, sort: "CONFIDENCE_DESC" },
      { cookie: viewerCookie },
    );
    const confidences = sorted.data!.reviews.edges.map((edge) => edge.node.aiConfidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
  });

  it("finds reviews by business name past the businesses it lists (it joins instead)", async () => {
    const db = api.database.db;
    const { regionId } = await db.business.findUniqueOrThrow({ where: { id: rawId(businessGlobalId) } });
    await db.business.createMany({
      data: Array.from({ length: MAX_SEARCH_BUSINESSES + 1 }, (_, n) => ({
        regionId,
        name: `Crowded Kennel ${n}`,
        email: `crowded-${n}@biz.example`,
      })),
    });
    const [few, many] = await Promise.all(
      ["Crowded Kennel 1000", "Crowded Kennel"].map((name) =>
        db.business.findFirstOrThrow({ where: { name: { startsWith: name } }, orderBy: { name: "desc" } }),
      ),
    );
    for (const business of [few!, many!])
      await db.review.create({ data: { businessId: business.id, rating: 4, body: "Lovely people", source: "test" } });
    const count = async (search: string) =>
      (await api.graphql<{ reviewCount: number }>(SEARCH, { filter: { search } }, { cookie: viewerCookie })).data!
        .reviewCount;
    // A name a few businesses have (their ids listed), and one more than MAX_SEARCH_BUSINESSES have.
    expect(await count("Crowded Kennel 1000")).toBe(1);
    expect(await count("crowded kennel")).toBe(2);
  });
});
