// Reading payments, refund requests and webhook events through GraphQL, and the live
// refundRequestChanged subscription.
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  createBusiness,
  createPaidPlacement,
  createRegion,
  globalId,
  HOUR,
  localId,
  type PaymentsStack,
  startPaymentsStack,
  WEBHOOK_SECRET,
} from "./payments-stack.ts";

let stack: PaymentsStack;
let redis: Redis;
const clients: Client[] = [];
const requestIds: Record<string, string> = {};
let businessId: string;

const REFUND_REQUESTS = `query ($filter: RefundRequestFilter, $first: Int) {
  refundRequests(filter: $filter, first: $first) {
    edges { node {
      id status amountCents currency purchasedAt reason
      business { name }
      eligibility { eligible daysElapsed hoursLeft expiresSoon }
    } }
  }
}`;

interface RequestRow {
  id: string;
  status: string;
  amountCents: number;
  currency: string;
  purchasedAt: string;
  reason: string;
  business: { name: string };
  eligibility: { eligible: boolean; daysElapsed: number; hoursLeft: number; expiresSoon: boolean };
}

async function request(hoursAgo: number, name: string): Promise<void> {
  const region = await createRegion(stack.db);
  const business = await createBusiness(stack.db, region.id, name);
  businessId ??= business.id;
  const payment = await createPaidPlacement(stack, business, new Date(Date.now() - hoursAgo * HOUR));
  const result = await stack.api.graphql<{ requestRefund: { __typename: string; data: { id: string } } }>(
    `mutation ($paymentId: ID!) { requestRefund(paymentId: $paymentId, reason: "Changed my mind") {
      __typename ... on MutationRequestRefundSuccess { data { id } } ... on Error { message } } }`,
    { paymentId: globalId("Payment", payment.id) },
    { cookie: stack.operatorCookie },
  );
  expect(result.data?.requestRefund.__typename).toBe("MutationRequestRefundSuccess");
  requestIds[name] = result.data!.requestRefund.data.id;
}

beforeAll(async () => {
  stack = await startPaymentsStack();
  redis = new Redis(stack.api.env.REDIS_URL);
  // Created newest purchase first, so the order below is not insertion order.
  await request(2, "Fresh Puppy School");
  await request(62, "Nearly Late Dog Academy");
  await request(100, "Far Too Late K9");
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  redis?.disconnect();
  await stack?.stop();
});

describe("refundRequests", () => {
  it("lists pending requests oldest purchase first, with amount, days elapsed and the deadline", async () => {
    const result = await stack.api.graphql<{ refundRequests: { edges: { node: RequestRow }[] } }>(
      REFUND_REQUESTS,
      {},
      { cookie: stack.viewerCookie },
    );
    const rows = result.data!.refundRequests.edges.map((edge) => edge.node);
    expect(rows.map((row) => row.business.name)).toEqual([
      "Far Too Late K9",
      "Nearly Late Dog Academy",
      "Fresh Puppy School",
    ]);
    expect(rows[0]).toMatchObject({
      status: "PENDING",
      amountCents: 2200,
      currency: "aud",
      eligibility: { eligible: false, daysElapsed: 4, hoursLeft: 0, expiresSoon: false },
    });
    expect(rows[1]?.eligibility).toMatchObject({ eligible: true, daysElapsed: 2, expiresSoon: true });
    expect(rows[1]?.eligibility.hoursLeft).toBeGreaterThanOrEqual(9.8);
    expect(rows[1]?.eligibility.hoursLeft).toBeLessThanOrEqual(10);
    expect(rows[2]?.eligibility).toMatchObject({ eligible: true, daysElapsed: 0, expiresSoon: false });
  });

  it("pages with a cursor in the same order", async () => {
    const first = await stack.api.graphql<{ refundRequests: { edges: { node: RequestRow; cursor: string }[] } }>(
      `query { refundRequests(first: 2) { edges { cursor node { business { name } } } pageInfo { hasNextPage endCursor } } }`,
      {},
      { cookie: stack.viewerCookie },
    );
    const page = first.data as unknown as {
      refundRequests: {
        edges: { node: { business: { name: string } } }[];
        pageInfo: { endCursor: string; hasNextPage: boolean };
      };
    };
    expect(page.refundRequests.pageInfo.hasNextPage).toBe(true);
    const next = await stack.api.graphql<{ refundRequests: { edges: { node: { business: { name: string } } }[] } }>(
      `query ($after: String) { refundRequests(first: 2, after: $after) { edges { node { business { name } } } } }`,
      { after: page.refundRequests.pageInfo.endCursor },
      { cookie: stack.viewerCookie },
    );
    expect(next.data?.refundRequests.edges.map((edge) => edge.node.business.name)).toEqual(["Fresh Puppy School"]);
  });

  it("needs a signed-in operator (or a token with refunds:write for a single request)", async () => {
    const anonymous = await stack.api.graphql(REFUND_REQUESTS, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const single = await stack.api.graphql<{ refundRequest: { status: string } }>(
      `query ($id: ID!) { refundRequest(id: $id) { status } }`,
      { id: requestIds["Fresh Puppy School"] },
      { bearer: stack.refundsToken },
    );
    expect(single.data?.refundRequest.status).toBe("PENDING");
    const reader = await stack.api.graphql(
      `query ($id: ID!) { refundRequest(id: $id) { status } }`,
      { id: requestIds["Fresh Puppy School"] },
      { bearer: stack.readToken },
    );
    expect(reader.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("payments", () => {
  it("filters by status, business and purchase period", async () => {
    const query = `query ($filter: PaymentFilter) { payments(filter: $filter, first: 50) {
      edges { node { id status amountCents business { name } placement { status } refundEligibility { eligible } } } } }`;
    type Result = {
      payments: {
        edges: {
          node: { id: string; status: string; business: { name: string }; placement: { status: string } | null };
        }[];
      };
    };
    const all = await stack.api.graphql<Result>(query, {}, { cookie: stack.viewerCookie });
    expect(all.data?.payments.edges).toHaveLength(3);
    expect(all.data?.payments.edges.map((edge) => edge.node.business.name)).toEqual([
      "Fresh Puppy School",
      "Nearly Late Dog Academy",
      "Far Too Late K9",
    ]);
    const recent = await stack.api.graphql<Result>(
      query,
      { filter: { from: new Date(Date.now() - 70 * HOUR).toISOString(), status: "SUCCEEDED" } },
      { cookie: stack.viewerCookie },
    );
    expect(recent.data?.payments.edges.map((edge) => edge.node.business.name)).toEqual([
      "Fresh Puppy School",
      "Nearly Late Dog Academy",
    ]);
    const one = await stack.api.graphql<Result>(
      query,
      { filter: { businessId: globalId("Business", businessId) } },
      { cookie: stack.viewerCookie },
    );
    expect(one.data?.payments.edges).toHaveLength(1);
    expect(one.data?.payments.edges[0]?.node.placement?.status).toBe("ACTIVE");
    const refunded = await stack.api.graphql<Result>(
      query,
      { filter: { status: "REFUNDED" } },
      { cookie: stack.viewerCookie },
    );
    expect(refunded.data?.payments.edges).toHaveLength(0);
    const byId = await stack.api.graphql<{ payment: { id: string } }>(
      `query ($id: ID!) { payment(id: $id) { id } }`,
      { id: one.data?.payments.edges[0]?.node.id },
      { cookie: stack.viewerCookie },
    );
    expect(localId(byId.data!.payment.id)).toBe(
      (await stack.db.payment.findFirstOrThrow({ where: { businessId } })).id,
    );
  });
});

describe("webhookEvents", () => {
  it("shows received events with status and attempts", async () => {
    const payload = JSON.stringify({
      id: "evt_listed_1",
      object: "event",
      type: "charge.succeeded",
      data: { object: { id: "ch_listed_1", object: "charge" } },
    });
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const response = await fetch(`${stack.api.url}/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    });
    expect(response.status).toBe(200);
    const result = await stack.api.graphql<{
      webhookEvents: { edges: { node: { eventId: string; type: string; status: string; attempts: number } }[] };
    }>(
      `query { webhookEvents(first: 10) { edges { node { eventId type status attempts lastError } } } }`,
      {},
      {
        cookie: stack.viewerCookie,
      },
    );
    // No worker in this file: the event waits, RECEIVED.
    expect(result.data?.webhookEvents.edges[0]?.node).toMatchObject({
      eventId: "evt_listed_1",
      type: "charge.succeeded",
      status: "RECEIVED",
      attempts: 0,
    });
  });
});

describe("refundRequestChanged", () => {
  it("pushes a decision to subscribers", async () => {
    const received: { id: string; status: string }[] = [];
    class CookieWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers: { cookie: stack.viewerCookie } });
      }
    }
    const client = createClient({
      url: `${stack.api.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: CookieWebSocket,
      retryAttempts: 0,
    });
    clients.push(client);
    client.subscribe<{ refundRequestChanged: { id: string; status: string } }>(
      { query: `subscription { refundRequestChanged { id status } }` },
      {
        next: (result) => {
          if (result.data) received.push(result.data.refundRequestChanged);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    const channel = `${stack.api.env.REDIS_PREFIX}:events:refundRequestChanged`;
    await expect
      .poll(async () => Number(((await redis.pubsub("NUMSUB", channel)) as [string, number])[1]))
      .toBeGreaterThan(0);
    const id = requestIds["Far Too Late K9"]!;
    const denied = await stack.api.graphql<{ denyRefund: { __typename: string } }>(
      `mutation ($id: ID!) { denyRefund(id: $id, reason: "Outside the 3-day window") { __typename } }`,
      { id },
      { cookie: stack.operatorCookie },
    );
    expect(denied.errors).toBeUndefined();
    expect(denied.data?.denyRefund.__typename).toBe("MutationDenyRefundSuccess");
    await expect.poll(() => received).toContainEqual({ id, status: "DENIED" });
  });
});
