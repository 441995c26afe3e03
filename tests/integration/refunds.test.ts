// Refunds end to end against the Stripe sandbox (the real SDK), real PostgreSQL and Redis, a real
// worker and the SMTP sandbox: exactly one Stripe refund whatever happens — double clicks, two
// operators at once, Stripe 500/429, a crash between the Stripe call and the database write.
// The approval answers PROCESSING; the refund-execute job does the rest.
import { systemActor } from "@steward/core/actor";
import { executeRefund, recoverClaimedRefunds } from "@steward/core/refunds";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import type { EventBus } from "@steward/core/ports/events";
import type { PaymentsGateway } from "@steward/core/ports/payments";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createBusiness,
  createPaidPlacement,
  createRegion,
  globalId,
  HOUR,
  type PaymentsStack,
  refundPosts,
  startPaymentsStack,
  stripeRefundsFor,
} from "./payments-stack.ts";

let stack: PaymentsStack;
let regionId: string;

const REQUEST = `mutation ($paymentId: ID, $stripeChargeId: String, $reason: String!, $amountCents: Int, $currency: String) {
  requestRefund(paymentId: $paymentId, stripeChargeId: $stripeChargeId, reason: $reason, amountCents: $amountCents, currency: $currency) {
    __typename
    ... on MutationRequestRefundSuccess { data { id status amountCents currency eligibility { eligible daysElapsed } } }
    ... on Error { message }
  }
}`;
const APPROVE = `mutation ($id: ID!) {
  approveRefund(id: $id) {
    __typename
    ... on MutationApproveRefundSuccess { data { id status stripeRefundId failureMessage } }
    ... on RefundIneligibleError { daysElapsed purchasedAt }
    ... on Error { message }
  }
}`;
const DENY = `mutation ($id: ID!, $reason: String!) {
  denyRefund(id: $id, reason: $reason) {
    __typename
    ... on MutationDenyRefundSuccess { data { id status denialNote } }
    ... on Error { message }
  }
}`;

interface Outcome {
  __typename: string;
  message?: string;
  data?: { id: string; status: string; stripeRefundId: string | null; failureMessage: string | null };
  daysElapsed?: number;
}

/** A paid placement and an open refund request for it, purchased `hoursAgo` hours ago. */
async function pendingRequest(hoursAgo: number, options: { business?: { id: string }; region?: string } = {}) {
  const business = options.business ?? (await createBusiness(stack.db, options.region ?? regionId));
  const payment = await createPaidPlacement(stack, business, new Date(Date.now() - hoursAgo * HOUR));
  const result = await stack.api.graphql<{ requestRefund: { __typename: string; data: { id: string } } }>(
    REQUEST,
    { stripeChargeId: payment.stripeChargeId, reason: "Bought the wrong region" },
    { bearer: stack.refundsToken },
  );
  expect(result.data?.requestRefund.__typename).toBe("MutationRequestRefundSuccess");
  const id = Buffer.from(result.data!.requestRefund.data.id, "base64").toString().split(":")[1]!;
  return { payment, requestId: id, gid: globalId("RefundRequest", id), business };
}

/** The request's status once the refund-execute job has settled it. */
async function settled(requestId: string, timeout = 20_000): Promise<string> {
  await expect
    .poll(async () => (await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } })).status, {
      timeout,
      interval: 100,
    })
    .not.toBe("PROCESSING");
  return (await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } })).status;
}

async function approve(gid: string, cookie = stack.operatorCookie): Promise<Outcome> {
  const result = await stack.api.graphql<{ approveRefund: Outcome }>(APPROVE, { id: gid }, { cookie });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.approveRefund;
}

beforeAll(async () => {
  stack = await startPaymentsStack({ worker: true, env: { STRIPE_TIMEOUT_MS: "1500" } });
  regionId = (await createRegion(stack.db, 5)).id;
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.stripeSandbox.faults.clear();
  stack.smtp.clear();
});

describe("requesting a refund", () => {
  it("lets an integration with refunds:write ask by Stripe charge id, once per payment", async () => {
    const { payment, requestId } = await pendingRequest(5);
    const request = await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(request).toMatchObject({
      status: "PENDING",
      paymentId: payment.id,
      idempotencyKey: `refund-request-${requestId}`,
    });
    expect(request.requestedBy).toMatch(/^API_TOKEN:/);
    const again = await stack.api.graphql<{ requestRefund: Outcome }>(
      REQUEST,
      { paymentId: globalId("Payment", payment.id), reason: "Asking twice" },
      { bearer: stack.refundsToken },
    );
    expect(again.data?.requestRefund.__typename).toBe("RefundAlreadyRequestedError");
    expect(await stack.db.refundRequest.count({ where: { paymentId: payment.id } })).toBe(1);
  });

  it("refuses bad input with typed errors and changes nothing", async () => {
    const business = await createBusiness(stack.db, regionId);
    const payment = await createPaidPlacement(stack, business, new Date(Date.now() - HOUR));
    const failed = await createPaidPlacement(stack, business, new Date(Date.now() - HOUR), { status: "FAILED" });
    const before = await stack.db.refundRequest.count();
    const ask = async (variables: Record<string, unknown>, bearer = stack.refundsToken) =>
      (
        await stack.api.graphql<{ requestRefund: Outcome }>(
          REQUEST,
          { reason: "Please refund", ...variables },
          { bearer },
        )
      ).data?.requestRefund;

    expect(await ask({ stripeChargeId: "ch_does_not_exist" })).toMatchObject({ __typename: "NotFoundError" });
    expect(await ask({ stripeChargeId: failed.stripeChargeId })).toMatchObject({
      __typename: "PaymentNotRefundableError",
      message: "This payment failed: nothing was charged, so there is nothing to refund",
    });
    expect(await ask({ stripeChargeId: payment.stripeChargeId, amountCents: -2200 })).toMatchObject({
      __typename: "ValidationError",
    });
    expect(await ask({ stripeChargeId: payment.stripeChargeId, amountCents: 1000 })).toMatchObject({
      __typename: "InvalidInputError",
      message: "Only full refunds are possible: AUD 22.00",
    });
    expect(await ask({ stripeChargeId: payment.stripeChargeId, currency: "usd" })).toMatchObject({
      __typename: "InvalidInputError",
      message: "This payment is in AUD, not USD",
    });
    expect(await ask({})).toMatchObject({ __typename: "InvalidInputError" });
    expect(await ask({ stripeChargeId: payment.stripeChargeId, reason: " " })).toMatchObject({
      __typename: "ValidationError",
    });
    const forbidden = await stack.api.graphql(
      REQUEST,
      { stripeChargeId: payment.stripeChargeId, reason: "Please refund" },
      { bearer: stack.readToken },
    );
    expect(forbidden.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await stack.db.refundRequest.count()).toBe(before);
  });
});

describe("approving", () => {
  it("refunds once at Stripe, marks payment and placement refunded, advances the queue and emails the business", async () => {
    const region = await createRegion(stack.db, 1);
    const buyer = await createBusiness(stack.db, region.id, "Good Dog Yarra");
    const waiting = await createBusiness(stack.db, region.id, "Heel Academy");
    const { payment, requestId, gid } = await pendingRequest(71, { business: buyer });
    const queued = await createPaidPlacement(stack, waiting, new Date(Date.now() - 2 * HOUR));
    expect((await stack.db.placement.findUniqueOrThrow({ where: { paymentId: queued.id } })).status).toBe("QUEUED");

    const outcome = await approve(gid);
    expect(outcome.__typename).toBe("MutationApproveRefundSuccess");
    expect(outcome.data).toMatchObject({ status: "PROCESSING", stripeRefundId: null });
    expect(await settled(requestId)).toBe("APPROVED");
    const refunds = stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: 2200, metadata: { refund_request_id: requestId } });
    expect((await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } })).stripeRefundId).toBe(
      refunds[0]?.id,
    );
    // One job, under the id derived from the request, did the Stripe call.
    const runs = await stack.db.jobRun.findMany({ where: { queueJobId: `refund-execute-${requestId}` } });
    expect(runs.map((run) => [run.jobName, run.status])).toEqual([["refund-execute", "SUCCEEDED"]]);
    expect(refundPosts(stack.stripeSandbox).at(-1)?.idempotencyKey).toBe(`refund-request-${requestId}`);

    expect(await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id } })).toMatchObject({
      status: "REFUNDED",
      refundedCents: 2200,
    });
    expect((await stack.db.placement.findUniqueOrThrow({ where: { paymentId: payment.id } })).status).toBe("REFUNDED");
    expect((await stack.db.placement.findUniqueOrThrow({ where: { paymentId: queued.id } })).status).toBe("ACTIVE");
    const audit = await stack.db.auditEvent.findMany({ where: { targetId: requestId }, orderBy: { createdAt: "asc" } });
    expect(audit.map((event) => event.action)).toEqual(["refund.request", "refund.approve", "refund.completed"]);

    const mail = await stack.smtp.waitFor((messages) => messages.some((m) => m.to.includes(buyer.email)));
    const received = mail.filter((m) => m.to.includes(buyer.email));
    expect(received).toHaveLength(1);
    expect(received[0]?.subject).toBe("Your refund of AUD 22.00 has been processed");
    expect(received[0]?.text).toContain("Hi Good Dog Yarra,");
    expect(received[0]?.text).toContain("Look for it on your statement in 3–5 business days.");
    expect(received[0]?.html).toContain("<strong>AUD 22.00</strong>");
    await expect
      .poll(
        async () =>
          (await stack.db.outboxMessage.findUniqueOrThrow({ where: { dedupKey: `refund-approved-${requestId}` } }))
            .status,
      )
      .toBe("SENT");
  });

  it("refuses an approval at 72 hours with a typed error that says why; nothing moves", async () => {
    const { payment, requestId, gid } = await pendingRequest(72.02);
    const posts = refundPosts(stack.stripeSandbox).length;
    const outcome = await approve(gid);
    expect(outcome.__typename).toBe("RefundIneligibleError");
    expect(outcome.message).toMatch(
      /^Purchased on \d{1,2} [A-Z][a-z]{2} \d{4}, 3 days ago: refunds are only possible within 3 days$/,
    );
    expect(outcome.daysElapsed).toBe(3);
    expect(refundPosts(stack.stripeSandbox)).toHaveLength(posts);
    expect((await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe("PENDING");
    expect((await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id } })).status).toBe("SUCCEEDED");
  });

  it("double click and two operators at once: one approval wins, the rest get a conflict, one Stripe refund", async () => {
    const { payment, requestId, gid } = await pendingRequest(10);
    const outcomes = await Promise.all([
      approve(gid),
      approve(gid),
      approve(gid, stack.secondOperatorCookie),
      approve(gid, stack.secondOperatorCookie),
    ]);
    const kinds = outcomes.map((outcome) => outcome.__typename).sort();
    expect(kinds).toEqual(["ConflictError", "ConflictError", "ConflictError", "MutationApproveRefundSuccess"]);
    expect(await settled(requestId)).toBe("APPROVED");
    // Only the winner enqueued: one refund-execute job ran.
    await expect
      .poll(() =>
        stack.db.jobRun.findMany({ where: { jobName: "refund-execute", queueJobId: { contains: requestId } } }),
      )
      .toHaveLength(1);
    expect(stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId)).toHaveLength(1);
    expect((await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id } })).status).toBe("REFUNDED");
    const again = await approve(gid);
    expect(again).toMatchObject({
      __typename: "ConflictError",
      message: "This refund request is already approved and refunded",
    });
    const askAgain = await stack.api.graphql<{ requestRefund: Outcome }>(
      REQUEST,
      { stripeChargeId: payment.stripeChargeId, reason: "Refund me again" },
      { bearer: stack.refundsToken },
    );
    expect(askAgain.data?.requestRefund).toMatchObject({
      __typename: "PaymentNotRefundableError",
      message: "This payment was already refunded",
    });
  });

  it("Stripe answers 500 twice, then succeeds: the SDK retries with the same key, one refund", async () => {
    const { payment, requestId, gid } = await pendingRequest(20);
    stack.stripeSandbox.faults.set({ mode: "error500", count: 2, paths: ["/v1/refunds"], methods: ["POST"] });
    const outcome = await approve(gid);
    expect(outcome.data?.status).toBe("PROCESSING");
    expect(await settled(requestId)).toBe("APPROVED");
    const posts = refundPosts(stack.stripeSandbox).filter((p) => p.idempotencyKey === `refund-request-${requestId}`);
    expect(posts.map((p) => p.status)).toEqual([500, 500, 200]);
    expect(stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId)).toHaveLength(1);
  });

  it.each([
    ["500", "error500"],
    ["429", "rateLimit429"],
  ] as const)(
    "Stripe keeps answering %s: the request stays PROCESSING and the job's retries complete it, once",
    async (_label, mode) => {
      const { payment, requestId, gid } = await pendingRequest(30);
      // Every try of the job's first attempt (the SDK's first try and its two retries) fails.
      stack.stripeSandbox.faults.set({ mode, count: 3, paths: ["/v1/refunds"], methods: ["POST"] });
      const outcome = await approve(gid);
      expect(outcome.data?.status).toBe("PROCESSING");
      expect(await settled(requestId)).toBe("APPROVED");
      expect(stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId)).toHaveLength(1);
      expect((await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id } })).status).toBe("REFUNDED");
      // 500s are retried by the SDK; 429s are not, so the job's own attempts (with backoff) carry it.
      const runsOf = () =>
        stack.db.jobRun.findMany({ where: { queueJobId: `refund-execute-${requestId}` }, orderBy: { attempt: "asc" } });
      await expect.poll(async () => (await runsOf()).at(-1)?.status).toBe("SUCCEEDED");
      const runs = await runsOf();
      expect(runs.length).toBeGreaterThan(1);
      expect(runs.slice(0, -1).every((run) => run.status === "FAILED")).toBe(true);
      expect(runs[0]?.error).toMatch(/Stripe did not answer; retrying automatically/);
    },
  );

  it("a timeout after Stripe refunded (the answer never came back): recovery replays the same refund", async () => {
    const { payment, requestId, gid } = await pendingRequest(40);
    // Stripe executes the refund but holds every answer past the client's 1.5 s timeout.
    stack.stripeSandbox.faults.set({ mode: "timeout", delayMs: 3_000, count: 3, paths: ["/v1/refunds"] });
    const outcome = await approve(gid);
    expect(outcome.data?.status).toBe("PROCESSING");
    await expect.poll(() => stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId).length).toBe(1);
    const atStripe = stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId);
    // Run it here too, beside the job's retries (either may win: both are safe).
    const result = await executeRefund(
      { ...stack.api.deps, events: noEvents },
      systemActor("test-recovery"),
      requestId,
    );
    expect(["COMPLETED", "ALREADY_DONE", "RETRY_LATER"]).toContain(result.outcome);
    expect(await settled(requestId, 30_000)).toBe("APPROVED");
    const request = await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(request.status).toBe("APPROVED");
    expect(request.stripeRefundId).toBe(atStripe[0]?.id);
    expect(stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId)).toHaveLength(1);
    const replayed = stack.stripeSandbox.requests().filter((r) => r.idempotencyKey === `refund-request-${requestId}`);
    expect(replayed.some((r) => r.replayed && r.status === 200)).toBe(true);
  });

  it("a crash between the Stripe call and the database write: the recovery sweep replays it, one refund", async () => {
    const { payment, requestId } = await pendingRequest(50);
    // The process that approved: it claimed the request, Stripe refunded, then it died.
    await stack.db.refundRequest.update({
      where: { id: requestId },
      data: { status: "PROCESSING", decidedAt: new Date(Date.now() - 10 * 60_000) },
    });
    const real = createStripeGateway(stack.api.env);
    const crashing: PaymentsGateway = {
      ...real,
      refunds: {
        ...real.refunds,
        create: async (...args) => {
          await real.refunds.create(...args);
          throw new Error("process killed after the Stripe call, before the database write");
        },
      },
    };
    const doomed = await executeRefund(
      { ...stack.api.deps, events: noEvents, stripe: crashing },
      systemActor("doomed"),
      requestId,
    );
    // Nothing was written but the note: the request is still PROCESSING, Stripe has the refund.
    expect(doomed.outcome).toBe("RETRY_LATER");
    expect(doomed.request.status).toBe("PROCESSING");
    expect(stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId)).toHaveLength(1);
    expect((await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id } })).status).toBe("SUCCEEDED");

    // The refund-recovery sweep hands it back to refund-execute, which replays the same refund.
    const queue = createBullJobQueues({ redisUrl: stack.api.env.REDIS_URL, prefix: stack.api.env.REDIS_PREFIX });
    const swept = await recoverClaimedRefunds({ ...stack.api.deps, jobs: queue });
    await queue.close();
    expect(swept).toBeGreaterThanOrEqual(1);
    expect(await settled(requestId)).toBe("APPROVED");
    const request = await stack.db.refundRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(request.status).toBe("APPROVED");
    const refunds = stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId);
    expect(refunds).toHaveLength(1);
    expect(request.stripeRefundId).toBe(refunds[0]?.id);
    expect(await stack.db.outboxMessage.count({ where: { dedupKey: `refund-approved-${requestId}` } })).toBe(1);
  });

  it("a retried job and concurrent completions after approval change nothing and refund nothing more", async () => {
    const { payment, requestId } = await pendingRequest(3);
    await stack.db.refundRequest.update({
      where: { id: requestId },
      data: { status: "PROCESSING", decidedAt: new Date() },
    });
    const deps = { ...stack.api.deps, events: noEvents };
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => executeRefund(deps, systemActor("retried-job"), requestId)),
    );
    expect(results.filter((r) => r.outcome === "COMPLETED")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "ALREADY_DONE")).toHaveLength(3);
    expect(stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId)).toHaveLength(1);
    expect(await stack.db.outboxMessage.count({ where: { dedupKey: `refund-approved-${requestId}` } })).toBe(1);
    expect(await stack.db.auditEvent.count({ where: { targetId: requestId, action: "refund.completed" } })).toBe(1);
    const posts = refundPosts(stack.stripeSandbox).length;
    expect((await executeRefund(deps, systemActor("late-retry"), requestId)).outcome).toBe("ALREADY_DONE");
    expect(refundPosts(stack.stripeSandbox)).toHaveLength(posts);
  });

  it("a viewer and an integration token may not approve", async () => {
    const { gid } = await pendingRequest(1);
    const viewer = await stack.api.graphql(APPROVE, { id: gid }, { cookie: stack.viewerCookie });
    expect(viewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const token = await stack.api.graphql(APPROVE, { id: gid }, { bearer: stack.refundsToken });
    expect(token.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("denying", () => {
  it("closes the request with the reason and emails the purchase date and the days elapsed, once", async () => {
    const business = await createBusiness(stack.db, regionId, "Sit Stay Darebin");
    const { payment, requestId, gid } = await pendingRequest(5 * 24 + 3, { business });
    const denied = await stack.api.graphql<{ denyRefund: Outcome & { data?: { denialNote: string } } }>(
      DENY,
      { id: gid, reason: "Outside the 3-day refund window" },
      { cookie: stack.operatorCookie },
    );
    expect(denied.data?.denyRefund).toMatchObject({
      __typename: "MutationDenyRefundSuccess",
      data: { status: "DENIED", denialNote: "Outside the 3-day refund window" },
    });
    const again = await stack.api.graphql<{ denyRefund: Outcome }>(
      DENY,
      { id: gid, reason: "Twice" },
      { cookie: stack.secondOperatorCookie },
    );
    expect(again.data?.denyRefund).toMatchObject({
      __typename: "ConflictError",
      message: "This refund request is already denied",
    });
    expect((await approve(gid)).__typename).toBe("ConflictError");

    const mail = await stack.smtp.waitFor((messages) => messages.some((m) => m.to.includes(business.email)));
    const received = mail.filter((m) => m.to.includes(business.email));
    expect(received).toHaveLength(1);
    const purchased = new Intl.DateTimeFormat("en-AU", {
      day: "numeric",
      month: "short",
      year: "numeric",
      timeZone: "Australia/Melbourne",
    }).format(payment.purchasedAt);
    expect(received[0]?.subject).toBe("About your refund request");
    expect(received[0]?.text).toContain(
      `Unfortunately, refunds are only available within 3 days of purchase. Your purchase was on ${purchased}, which is 5 days ago. We cannot process this refund.`,
    );
    expect(received[0]?.text).toContain("Our note: Outside the 3-day refund window");
    expect(stripeRefundsFor(stack.stripeSandbox, payment.stripeChargeId)).toHaveLength(0);
    const audit = await stack.db.auditEvent.findFirstOrThrow({ where: { targetId: requestId, action: "refund.deny" } });
    expect(audit.reason).toBe("Outside the 3-day refund window");
  });
});

const noEvents = { publish: () => undefined } as unknown as EventBus;
