// Review moderation through the public GraphQL API: integrations submit, the worker scores,
// operators decide (never twice), reverse, and bulk-approve the confident ones.
import { createApiToken } from "@steward/core/apiTokens";
import { createLogger } from "@steward/core/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobCatalog } from "../../worker/src/registry.ts";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

let api: TestApi;
let worker: StewardWorker;
let operatorCookie: string;
let secondOperatorCookie: string;
let writerToken: string;
let readerToken: string;
let businessGlobalId: string;
let businessId: string;

const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

const SUBMIT = `mutation ($businessId: ID!, $rating: Int!, $body: String!) {
  submitReview(businessId: $businessId, rating: $rating, body: $body) {
    __typename
    ... on MutationSubmitReviewSuccess { data { id status } }
    ... on Error { message }
  }
}`;
const APPROVE = `mutation ($id: ID!) { approveReview(id: $id) { __typename ... on Error { message } ... on MutationApproveReviewSuccess { data { status } } } }`;
const REJECT = `mutation ($id: ID!, $reason: RejectionReason!, $note: String) {
  rejectReview(id: $id, reason: $reason, note: $note) { __typename ... on Error { message } ... on MutationRejectReviewSuccess { data { status rejectionReason moderatorNote } } }
}`;
const REOPEN = `mutation ($id: ID!, $reason: String!) { reopenReview(id: $id, reason: $reason) { __typename ... on Error { message } } }`;
const BULK = `mutation ($threshold: Float) { bulkApproveReviews(threshold: $threshold) { __typename ... on MutationBulkApproveReviewsSuccess { data } ... on Error { message } } }`;

async function seedPending(count: number, confidence: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const review = await api.database.db.review.create({
      data: {
        businessId,
        rating: 5,
        body: `Great puppy class number ${index}`,
        source: "test",
        aiConfidence: confidence,
        aiProvider: "test",
      },
    });
    ids.push(review.id);
  }
  return ids;
}

beforeAll(async () => {
  api = await startTestApi();
  const { db } = api.database;
  const admin = await createOperator(db, "ADMIN", "admin@test.example");
  await createOperator(db, "OPERATOR", "olive@test.example");
  await createOperator(db, "OPERATOR", "otto@test.example");
  const region = await db.region.create({ data: { slug: "yarra", name: "City of Yarra" } });
  const business = await db.business.create({
    data: { regionId: region.id, name: "Good Dog Yarra", email: "gd@example.com" },
  });
  businessId = business.id;
  businessGlobalId = globalId("Business", business.id);
  const adminActor = {
    kind: "OPERATOR" as const,
    id: admin.id,
    email: admin.email,
    name: admin.name,
    role: admin.role,
  };
  writerToken = (await createApiToken({ db }, adminActor, { name: "marketplace", scopes: ["reviews:write"] })).token;
  readerToken = (await createApiToken({ db }, adminActor, { name: "reader", scopes: ["read"] })).token;
  operatorCookie = await api.loginCookie("olive@test.example", TEST_PASSWORD);
  secondOperatorCookie = await api.loginCookie("otto@test.example", TEST_PASSWORD);
  worker = buildWorker(api.env, createLogger("worker-test", "silent"), jobCatalog(api.env));
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await api.stop();
});

describe("submitting reviews", () => {
  it("stores a review as pending at once and scores it asynchronously with the deterministic classifier", async () => {
    const result = await api.graphql<{ submitReview: { __typename: string; data: { id: string; status: string } } }>(
      SUBMIT,
      { businessId: businessGlobalId, rating: 1, body: "Cheap pills, click here http://spam.example" },
      { bearer: writerToken },
    );
    expect(result.data?.submitReview.__typename).toBe("MutationSubmitReviewSuccess");
    expect(result.data?.submitReview.data.status).toBe("PENDING");
    const id = Buffer.from(result.data!.submitReview.data.id, "base64").toString().split(":")[1]!;
    await expect
      .poll(async () => (await api.database.db.review.findUniqueOrThrow({ where: { id } })).aiProvider, {
        timeout: 15_000,
      })
      .toBe("deterministic");
    const review = await api.database.db.review.findUniqueOrThrow({ where: { id }, include: { scores: true } });
    expect(review.aiConfidence).toBeLessThan(0.5);
    expect(review.scores).toHaveLength(1);
    expect(review.source).toBe("token:marketplace");
    // Written with its audit event, by the token that submitted it.
    const audit = await api.database.db.auditEvent.findMany({ where: { action: "review.submit", targetId: id } });
    expect(audit).toMatchObject([{ actorKind: "API_TOKEN", targetType: "Review" }]);
    expect(audit[0]?.actorLabel).toContain("marketplace");
    expect(review.submittedByTokenId).toBe(audit[0]?.actorId);
  });

  it.each([
    ["a rating out of range", { rating: 6, body: "Lovely dog trainer" }],
    ["an empty body", { rating: 4, body: "   " }],
    ["a 20,000-character body", { rating: 4, body: "dog ".repeat(5000) }],
  ])("refuses %s with a typed error and stores nothing", async (_label, input) => {
    const before = await api.database.db.review.count();
    const result = await api.graphql<{ submitReview: { __typename: string } }>(
      SUBMIT,
      { businessId: businessGlobalId, ...input },
      { bearer: writerToken },
    );
    expect(result.data?.submitReview.__typename).toBe("ValidationError");
    expect(await api.database.db.review.count()).toBe(before);
  });

  it("refuses an unknown business and a token without reviews:write", async () => {
    const unknown = await api.graphql<{ submitReview: { __typename: string } }>(
      SUBMIT,
      { businessId: globalId("Business", "0190f0c0-0000-7000-8000-000000000000"), rating: 4, body: "Nice dog class" },
      { bearer: writerToken },
    );
    expect(unknown.data?.submitReview.__typename).toBe("NotFoundError");
    const malformed = await api.graphql<{ submitReview: { __typename: string } }>(
      SUBMIT,
      { businessId: globalId("Business", "not-a-uuid"), rating: 4, body: "Nice dog class" },
      { bearer: writerToken },
    );
    expect(malformed.data?.submitReview.__typename).toBe("NotFoundError");
    expect(await api.database.db.auditEvent.count({ where: { action: "review.submit", targetId: null } })).toBe(0);
    const forbidden = await api.graphql(
      SUBMIT,
      { businessId: businessGlobalId, rating: 4, body: "Nice dog class" },
      { bearer: readerToken },
    );
    expect(forbidden.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("deciding", () => {
  it("lets exactly one of two simultaneous approvals win; the other gets a conflict", async () => {
    const [id] = await seedPending(1, 0.5);
    const reviewId = globalId("Review", id!);
    const [first, second] = await Promise.all([
      api.graphql<{ approveReview: { __typename: string } }>(APPROVE, { id: reviewId }, { cookie: operatorCookie }),
      api.graphql<{ approveReview: { __typename: string } }>(
        APPROVE,
        { id: reviewId },
        { cookie: secondOperatorCookie },
      ),
    ]);
    const outcomes = [first.data?.approveReview.__typename, second.data?.approveReview.__typename].sort();
    expect(outcomes).toEqual(["ConflictError", "MutationApproveReviewSuccess"]);
    expect(await api.database.db.reviewDecision.count({ where: { reviewId: id } })).toBe(1);
    expect(await api.database.db.auditEvent.count({ where: { targetId: id, action: "review.approve" } })).toBe(1);
  });

  it("rejects with a reason and note, reverses it, and keeps both in the audit log", async () => {
    const [id] = await seedPending(1, 0.4);
    const reviewId = globalId("Review", id!);
    const rejected = await api.graphql<{
      rejectReview: { data: { status: string; rejectionReason: string; moderatorNote: string } };
    }>(REJECT, { id: reviewId, reason: "OFF_TOPIC", note: "asks for a plumber" }, { cookie: operatorCookie });
    expect(rejected.data?.rejectReview.data).toEqual({
      status: "REJECTED",
      rejectionReason: "OFF_TOPIC",
      moderatorNote: "asks for a plumber",
    });
    const again = await api.graphql<{ approveReview: { __typename: string } }>(
      APPROVE,
      { id: reviewId },
      { cookie: operatorCookie },
    );
    expect(again.data?.approveReview.__typename).toBe("ConflictError");

    const reopened = await api.graphql<{ reopenReview: { __typename: string } }>(
      REOPEN,
      { id: reviewId, reason: "was about dogs after all" },
      { cookie: operatorCookie },
    );
    console.log("REOPEN", JSON.stringify(reopened.errors));
    expect(reopened.errors).toBeUndefined();
    expect(reopened.data?.reopenReview.__typename).toBe("MutationReopenReviewSuccess");
    const approved = await api.graphql<{ approveReview: { __typename: string } }>(
      APPROVE,
      { id: reviewId },
      { cookie: operatorCookie },
    );
    expect(approved.data?.approveReview.__typename).toBe("MutationApproveReviewSuccess");
    const actions = await api.database.db.auditEvent.findMany({ where: { targetId: id }, orderBy: { id: "asc" } });
    expect(actions.map((event) => event.action)).toEqual(["review.reject", "review.reopen", "review.approve"]);
    expect(actions[1]?.reason).toBe("was about dogs after all");
  });

  it("refuses a reason outside the enum and an unknown review id", async () => {
    const [id] = await seedPending(1, 0.4);
    const badReason = await api.graphql(
      REJECT,
      { id: globalId("Review", id!), reason: "RUDE" },
      { cookie: operatorCookie },
    );
    expect(badReason.status).toBe(400);
    const unknown = await api.graphql<{ approveReview: { __typename: string } }>(
      APPROVE,
      { id: globalId("Review", "0190f0c0-0000-7000-8000-000000000000") },
      { cookie: operatorCookie },
    );
    expect(unknown.data?.approveReview.__typename).toBe("NotFoundError");
    expect((await api.database.db.review.findUniqueOrThrow({ where: { id: id! } })).status).toBe("PENDING");
  });
});

describe("bulk approval and publishing", () => {
  it("approves every pending review at or above the threshold, one audit event each, and publishes them", async () => {
    await api.database.db.review.updateMany({
      where: { status: "PENDING" },
      data: { status: "REJECTED", rejectionReason: "OTHER" },
    });
    const confident = await seedPending(5, 0.95);
    const unsure = await seedPending(3, 0.7);
    const count = await api.graphql<{ bulkApprovableCount: number }>(
      `{ bulkApprovableCount(threshold: 0.9) }`,
      {},
      { cookie: operatorCookie },
    );
    expect(count.data?.bulkApprovableCount).toBe(5);

    const result = await api.graphql<{ bulkApproveReviews: { data: number } }>(
      BULK,
      { threshold: 0.9 },
      { cookie: operatorCookie },
    );
    expect(result.data?.bulkApproveReviews.data).toBe(5);
    const statuses = await api.database.db.review.findMany({ where: { id: { in: [...confident, ...unsure] } } });
    expect(
      statuses
        .filter((review) => review.status === "APPROVED")
        .map((review) => review.id)
        .sort(),
    ).toEqual([...confident].sort());
    expect(
      await api.database.db.auditEvent.count({ where: { action: "review.approve", targetId: { in: confident } } }),
    ).toBe(5);

    const published = await api.graphql<{ publishedReviews: { edges: { node: { status: string } }[] } }>(
      `query ($id: ID!) { publishedReviews(businessId: $id, first: 50) { edges { node { status } } } }`,
      { id: businessGlobalId },
      { bearer: readerToken },
    );
    expect(published.data?.publishedReviews.edges.length).toBeGreaterThanOrEqual(5);
    expect(published.data?.publishedReviews.edges.every((edge) => edge.node.status === "APPROVED")).toBe(true);
  });

  it("refuses an out-of-range threshold and a VIEWER, approving nothing", async () => {
    const ids = await seedPending(2, 0.99);
    const badThreshold = await api.graphql<{ bulkApproveReviews: { __typename: string } }>(
      BULK,
      { threshold: 0.2 },
      { cookie: operatorCookie },
    );
    expect(badThreshold.data?.bulkApproveReviews.__typename).toBe("ValidationError");
    await createOperator(api.database.db, "VIEWER", "vic@test.example");
    const viewerCookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
    const forbidden = await api.graphql(BULK, {}, { cookie: viewerCookie });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.database.db.review.count({ where: { id: { in: ids }, status: "PENDING" } })).toBe(2);
  });
});

describe("the queue's pages", () => {
  const PAGE = `query ($first: Int, $last: Int, $after: String, $before: String, $filter: ReviewFilter) {
    reviews(first: $first, last: $last, after: $after, before: $before, filter: $filter) {
      edges { node { id } }
      pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    }
  }`;
  interface Page {
    reviews: {
      edges: { node: { id: string } }[];
      pageInfo: {
        hasNextPage: boolean;
        hasPreviousPage: boolean;
        endCursor: string | null;
        startCursor: string | null;
      };
    };
  }
  const rawId = (id: string) => Buffer.from(id, "base64").toString().split(":")[1]!;

  it("pages oldest first by (createdAt, id) through ties, forwards and backwards, without gaps or repeats", async () => {
    const { db } = api.database;
    const business = await db.business.create({
      data: { regionId: (await db.region.findFirstOrThrow()).id, name: "Paging Dogs", email: "p@example.com" },
    });
    const filter = { businessId: globalId("Business", business.id) };
    // Three reviews share each timestamp, so the id must break the tie exactly where a page ends.
    const base = Date.UTC(2026, 0, 1);
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        db.review.create({
          data: {
            businessId: business.id,
            rating: 4,
            body: `Paging review ${index}`,
            source: "test",
            createdAt: new Date(base + Math.floor(index / 3) * 1000),
          },
        }),
      ),
    );
    // One decided review in the middle is not in the pending queue.
    await db.review.update({ where: { id: created[5]!.id }, data: { status: "APPROVED" } });
    const expected = created
      .filter((review) => review.id !== created[5]!.id)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
      .map((review) => review.id);

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: { data?: Page | null; errors?: unknown } = await api.graphql<Page>(
        PAGE,
        { first: 4, after, filter },
        { cookie: operatorCookie },
      );
      expect(result.errors).toBeUndefined();
      seen.push(...result.data!.reviews.edges.map((edge) => rawId(edge.node.id)));
      if (!result.data!.reviews.pageInfo.hasNextPage) break;
      after = result.data!.reviews.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);

    // Backwards from the 8th: the three before it, in queue order.
    const eighth = Buffer.from(`GPC:S:${expected[7]}`).toString("base64");
    const before = await api.graphql<Page>(PAGE, { last: 3, before: eighth, filter }, { cookie: operatorCookie });
    expect(before.data!.reviews.edges.map((edge) => rawId(edge.node.id))).toEqual(expected.slice(4, 7));
    expect(before.data!.reviews.pageInfo.hasPreviousPage).toBe(true);

    // A cursor at the decided review still marks its place in the queue.
    const decided = Buffer.from(`GPC:S:${created[5]!.id}`).toString("base64");
    const fromDecided = await api.graphql<Page>(
      PAGE,
      { first: 50, after: decided, filter },
      { cookie: operatorCookie },
    );
    const position = created.findIndex((review) => review.id === created[5]!.id);
    const later = expected.filter((id) => {
      const review = created.find((r) => r.id === id)!;
      const mark = created[position]!;
      return (
        review.createdAt > mark.createdAt || (review.createdAt.getTime() === mark.createdAt.getTime() && id > mark.id)
      );
    });
    expect(fromDecided.data!.reviews.edges.map((edge) => rawId(edge.node.id))).toEqual(later);
  });
});
