// One refund's hops, counted on the real stack (API, worker, the Stripe sandbox delivering its
// webhooks, PostgreSQL, Redis): from the operator's approval until the request is approved, both
// Stripe events are processed and the email is sent. Printed for the README, and bounded so the
// refund path cannot quietly grow back its round trips.
import { createEventBus } from "@steward/core/adapters/redisEvents";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createBusiness,
  createPaidPlacement,
  createRegion,
  globalId,
  HOUR,
  type PaymentsStack,
  startPaymentsStack,
} from "./payments-stack.ts";

let stack: PaymentsStack;
let regionId: string;

beforeAll(async () => {
  stack = await startPaymentsStack({ worker: true, webhooks: true });
  regionId = (await createRegion(stack.db, 5)).id;
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Transactions committed in this test's database (an autocommit statement counts as one). */
async function committedTransactions(): Promise<number> {
  // Backends report their counters at most once a second.
  await sleep(1_500);
  const [row] = await stack.db.$queryRaw<{ commits: bigint }[]>`
    SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()`;
  return Number(row?.commits ?? 0);
}

/** How many list reads the Refunds page makes: one right after its own mutation, then one per burst of events (200 ms debounce). */
function dashboardRefetches(mutationAnsweredAt: number, eventTimes: number[]): number {
  let refetches = 1;
  let last = mutationAnsweredAt;
  for (const at of [...eventTimes].sort((a, b) => a - b)) {
    if (at - last > 200) refetches++;
    last = Math.max(last, at);
  }
  return refetches;
}

async function oneRefund() {
  const business = await createBusiness(stack.db, regionId);
  const payment = await createPaidPlacement(stack, business, new Date(Date.now() - 2 * HOUR));
  const request = await stack.db.refundRequest.create({
    data: {
      paymentId: payment.id,
      businessId: business.id,
      reason: "Counting hops",
      requestedBy: "SYSTEM:test",
      idempotencyKey: `refund-request-hops-${payment.id}`,
    },
  });
  await stack.db.refundRequest.update({
    where: { id: request.id },
    data: { idempotencyKey: `refund-request-${request.id}` },
  });
  const events = createEventBus(stack.api.env.REDIS_URL, stack.api.env.REDIS_PREFIX);
  const eventTimes: number[] = [];
  const iterator = events.bus.subscribe("refundRequestChanged")[Symbol.asyncIterator]();
  const listening = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      if (next.value.refundRequestId === request.id) eventTimes.push(Date.now());
    }
  })();
  await sleep(300);
  stack.stripeSandbox.clearRequests();
  const deliveriesBefore = stack.stripeSandbox.webhooks.deliveries().length;
  const since = new Date();
  const commitsBefore = await committedTransactions();

  const approved = await stack.api.graphql<{ approveRefund: { __typename: string } }>(
    `mutation ($id: ID!) { approveRefund(id: $id) { __typename } }`,
    { id: globalId("RefundRequest", request.id) },
    { cookie: stack.operatorCookie },
  );
  const answeredAt = Date.now();
  expect(approved.data?.approveRefund.__typename).toBe("MutationApproveRefundSuccess");
  await expect
    .poll(async () => (await stack.db.refundRequest.findUniqueOrThrow({ where: { id: request.id } })).status, {
      timeout: 20_000,
    })
    .toBe("APPROVED");
  await stack.stripeSandbox.waitForWebhooks();
  await expect
    .poll(
      async () =>
        stack.db.stripeWebhookEvent.count({
          where: { receivedAt: { gte: since }, status: { not: "PROCESSED" } },
        }),
      { timeout: 20_000 },
    )
    .toBe(0);
  await expect
    .poll(
      async () =>
        (await stack.db.outboxMessage.findUnique({ where: { dedupKey: `refund-approved-${request.id}` } }))?.status,
      { timeout: 90_000, interval: 250 },
    )
    .toBe("SENT");
  await sleep(500);
  const commitsAfter = await committedTransactions();
  await iterator.return?.();
  await listening;
  await events.close();

  const stripeCalls = stack.stripeSandbox
    .requests()
    .map((call) => `${call.method} ${call.path.replace(/\/(ch|re)_\w+/, "/:id")}`);
  const jobs = await stack.db.jobRun.findMany({
    where: { startedAt: { gte: since } },
    select: { jobName: true, summary: true, attempt: true },
  });
  if (process.env.HOPS_DEBUG) console.log(JSON.stringify(jobs));
  const webhookPosts = stack.stripeSandbox.webhooks.deliveries().length - deliveriesBefore;
  return {
    httpRequests: 1 + webhookPosts,
    webhookPosts,
    transactions: commitsAfter - commitsBefore,
    jobs: jobs.map((job) => job.jobName).sort(),
    stripeCalls,
    refundRequestEvents: eventTimes.length,
    dashboardRefetches: dashboardRefetches(answeredAt, eventTimes),
  };
}

it("counts one refund's hops: requests, transactions, jobs, Stripe calls, dashboard refetches", async () => {
  const runs = [];
  for (let run = 0; run < 3; run++) runs.push(await oneRefund());
  // The quietest run: scheduled jobs (outbox, heartbeat, health) land in some windows.
  const hops = runs.reduce((best, run) => (run.transactions < best.transactions ? run : best));
  console.log(`one refund's hops: ${JSON.stringify(hops, null, 2)}`);
  console.log(`transactions per run: ${runs.map((run) => run.transactions).join(", ")}`);
  console.log(`Stripe calls per run: ${JSON.stringify(runs.map((run) => run.stripeCalls))}`);
  for (const run of runs) {
    // One refund call and no read, whichever of the job's commit and the webhooks comes first
    // (a scheduled reconciliation's charge listing may fall in the window: not this refund's).
    expect(run.stripeCalls.filter((call) => call !== "GET /v1/charges")).toEqual(["POST /v1/refunds"]);
  }
}, 240_000);
