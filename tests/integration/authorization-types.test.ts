// Authorization below the root fields, attacked the way an integration would: through the fields
// a token may call, reach for the operators behind a review or a refund, or for reviews the token
// did not submit. Operators' identities never reach API tokens; a reviews:write token reads only
// what it submitted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { TEST_PASSWORD } from "../support/fixtures.ts";
import { globalIdOf, seedWorld, type World } from "../support/world.ts";

let api: TestApi;
let world: World;

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMIT_PER_ADDRESS: "100000", RATE_LIMIT_PER_TOKEN: "100000" });
  world = await seedWorld(api.database.db);
});
afterAll(async () => {
  await api?.stop();
});

function expectNoOperatorIdentity(answer: unknown): void {
  const text = JSON.stringify(answer);
  for (const secret of world.operatorSecrets) expect(text).not.toContain(secret);
  for (const role of ["VIEWER", "OPERATOR", "ADMIN"] as const) expect(text).not.toContain(world.operators[role].id);
}

describe("a `read` token", () => {
  const PUBLISHED = `query ($businessId: ID!) {
    publishedReviews(businessId: $businessId, first: 10) {
      edges { node { id body moderator { email name role } decisions { note actor { email name role } } } }
    }
  }`;

  it("reads published reviews, but not who moderated them nor how", async () => {
    const businessId = globalIdOf("Business", world.nodeIds.Business!);
    const answer = await api.graphql<{ publishedReviews: { edges: { node: { body: string } }[] } }>(
      PUBLISHED,
      { businessId },
      { bearer: world.tokens.read.token },
    );
    expectNoOperatorIdentity(answer);
    expect(answer.errors?.map((error) => error.extensions?.code)).toContain("FORBIDDEN");
    // The moderator (a nullable field) is refused and the review itself still comes back.
    const moderatorOnly = await api.graphql<{
      publishedReviews: { edges: { node: { body: string; moderator: unknown } }[] };
    }>(
      `query ($businessId: ID!) { publishedReviews(businessId: $businessId, first: 10) { edges { node { body moderator { email } } } } }`,
      { businessId },
      { bearer: world.tokens.read.token },
    );
    expectNoOperatorIdentity(moderatorOnly);
    expect(moderatorOnly.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(moderatorOnly.data?.publishedReviews.edges).toEqual([
      { node: { body: "Published review body", moderator: null } },
    ]);
  });

  it("cannot reach the moderator through node(id:) either", async () => {
    const answer = await api.graphql(
      `query ($id: ID!) { node(id: $id) { ... on Review { body moderatorNote moderator { email } decisions { actor { email } } } } }`,
      { id: globalIdOf("Review", world.approvedReviewId) },
      { bearer: world.tokens.read.token },
    );
    expectNoOperatorIdentity(answer);
  });

  it("reads a published review by id, and not one still pending", async () => {
    const NODE = `query ($id: ID!) { node(id: $id) { ... on Review { body status } } }`;
    const published = await api.graphql<{ node: { status: string } | null }>(
      NODE,
      { id: globalIdOf("Review", world.approvedReviewId) },
      { bearer: world.tokens.read.token },
    );
    expect(published.data?.node?.status).toBe("APPROVED");
    const pending = await api.graphql<{ node: unknown }>(
      NODE,
      { id: globalIdOf("Review", world.pendingReviewId) },
      { bearer: world.tokens.read.token },
    );
    expect(pending.data?.node ?? null).toBeNull();
    expect(JSON.stringify(pending)).not.toContain("Pending review body");
  });

  it("still lets an operator read who moderated", async () => {
    const cookie = await api.loginCookie(world.operators.VIEWER.email, TEST_PASSWORD);
    const answer = await api.graphql<{ publishedReviews: { edges: { node: { moderator: { email: string } } }[] } }>(
      PUBLISHED,
      { businessId: globalIdOf("Business", world.nodeIds.Business!) },
      { cookie },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.publishedReviews.edges[0]?.node.moderator.email).toBe(world.operators.ADMIN.email);
  });
});

describe("a `refunds:write` token", () => {
  it("reads its refund request, but not who decided it or who asked", async () => {
    const answer = await api.graphql<{ refundRequest: { status: string } | null }>(
      `query ($id: ID!) { refundRequest(id: $id) { status denialNote requestedBy failureMessage decidedBy { id email name role } } }`,
      { id: globalIdOf("RefundRequest", world.nodeIds.RefundRequest!) },
      { bearer: world.tokens["refunds:write"].token },
    );
    expectNoOperatorIdentity(answer);
    expect(JSON.stringify(answer)).not.toContain("internal: stripe said no");
    const status = await api.graphql<{ refundRequest: { status: string } }>(
      `query ($id: ID!) { refundRequest(id: $id) { status denialNote } }`,
      { id: globalIdOf("RefundRequest", world.nodeIds.RefundRequest!) },
      { bearer: world.tokens["refunds:write"].token },
    );
    expect(status.errors).toBeUndefined();
    expect(status.data?.refundRequest.status).toBe("DENIED");
  });
});

describe("a `reviews:write` token", () => {
  const NODE = `query ($id: ID!) { node(id: $id) { id ... on Review { body status } } }`;
  const SUBMIT = `mutation ($businessId: ID!) {
    submitReview(businessId: $businessId, rating: 4, body: "Our own review") {
      __typename ... on MutationSubmitReviewSuccess { data { id body status } }
    }
  }`;

  it("cannot read a pending review another integration submitted", async () => {
    const answer = await api.graphql<{ node: unknown }>(
      NODE,
      { id: globalIdOf("Review", world.pendingReviewId) },
      { bearer: world.tokens["reviews:write"].token },
    );
    expect(answer.data?.node ?? null).toBeNull();
    expect(JSON.stringify(answer)).not.toContain("Pending review body");
  });

  it("reads what it submitted, at submission and later by id", async () => {
    const submitted = await api.graphql<{ submitReview: { data: { id: string; body: string; status: string } } }>(
      SUBMIT,
      { businessId: globalIdOf("Business", world.nodeIds.Business!) },
      { bearer: world.tokens["reviews:write"].token },
    );
    expect(submitted.errors).toBeUndefined();
    const { id } = submitted.data!.submitReview.data;
    expect(submitted.data?.submitReview.data).toMatchObject({ body: "Our own review", status: "PENDING" });
    const row = await api.database.db.review.findUniqueOrThrow({
      where: { id: Buffer.from(id, "base64").toString().split(":")[1]! },
    });
    expect(row.submittedByTokenId).toBe(world.tokens["reviews:write"].id);

    const own = await api.graphql<{ node: { body: string } | null }>(
      NODE,
      { id },
      { bearer: world.tokens["reviews:write"].token },
    );
    expect(own.errors).toBeUndefined();
    expect(own.data?.node?.body).toBe("Our own review");
    // …and the other integration cannot read it.
    const other = await api.graphql<{ node: unknown }>(NODE, { id }, { bearer: world.otherSubmitter.token });
    expect(other.data?.node ?? null).toBeNull();
  });
});

describe("the operator signing in", () => {
  it("still reads their own identity in login's answer", async () => {
    const answer = await api.graphql<{ login: { operator?: { email: string; role: string } } }>(
      `mutation ($email: String!, $password: String!) {
        login(email: $email, password: $password) { ... on MutationLoginSuccess { data { operator { email role } } } }
      }`,
      { email: world.operators.OPERATOR.email, password: TEST_PASSWORD },
    );
    expect(answer.errors).toBeUndefined();
    expect(JSON.stringify(answer.data)).toContain(world.operators.OPERATOR.email);
  });
});
