// Drills where a service Steward depends on misbehaves: Redis restarted and flushed, PostgreSQL
// restarted, Stripe slow / 429 / 500 (with its 25 requests/s limit on), the SMTP and Slack receivers down.
import { systemActor } from "@steward/core/actor";
import type { AlertRuleKey } from "@steward/core/alertRuleKeys";
import { clearAlert, raiseAlert } from "@steward/core/alerts";
import { createApiToken } from "@steward/core/apiTokens";
import { channelSecretCipher } from "@steward/core/channelSecrets";
import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import { upsertNotificationChannel } from "@steward/core/notificationChannels";
import { hashPassword } from "@steward/core/passwords";
import { buildApp } from "../../api/src/app.ts";
import { type NotifySandbox, type ReceivedNotification, startNotifySandbox } from "../../sandbox/src/notify/server.ts";
import { freePort } from "../../scripts/lib/services.ts";
import { signIn } from "../src/api.ts";
import { contracts } from "@steward/jobs/contracts";
import { deliverAndCheckEmails } from "./kills.ts";
import {
  claimedRefund,
  createBusiness,
  createPaidPlacement,
  createRegion,
  enqueueEmails,
  receivedStripeEvent,
} from "./fixtures.ts";
import {
  Checks,
  type DrillResult,
  type DrillStack,
  type OwnPostgres,
  sleep,
  startDrillStack,
  trace,
  startOwnPostgres,
  waitUntil,
} from "./harness.ts";

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");
const PASSWORD = "drill-password-2026";

interface DrillApi {
  url: string;
  graphql(
    query: string,
    variables: Record<string, unknown>,
    auth: { cookie?: string; bearer?: string },
  ): Promise<{
    status: number;
    data?: Record<string, unknown>;
    errors?: { message: string; extensions?: { code?: string } }[];
  }>;
  operatorCookie: string;
  integrationToken: string;
  stop(): Promise<void>;
}

/** The real API in this process, on the drill's database and Redis, with an operator and a token. */
async function startDrillApi(stack: DrillStack): Promise<DrillApi> {
  const env = loadEnv({ ...stack.env, API_PORT: "0", LOG_LEVEL: "silent" });
  const app = buildApp(env, createLogger("drill-api", "silent"));
  const url = await app.start();
  const email = `drill-admin-${Date.now()}@steward.test`;
  const admin = await stack.db.operator.create({
    data: { email, name: "Drill Admin", role: "ADMIN", passwordHash: await hashPassword(PASSWORD) },
  });
  const { token } = await createApiToken(
    { db: stack.db },
    { kind: "OPERATOR", id: admin.id, email: admin.email, name: admin.name, role: admin.role },
    { name: "drill integration", scopes: ["read", "reviews:write", "refunds:write"] },
  );
  const graphql: DrillApi["graphql"] = async (query, variables, auth) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (auth.cookie) headers.cookie = auth.cookie;
    if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, unknown>; errors?: never };
    return { status: response.status, data: body.data, errors: body.errors };
  };
  const operatorCookie = await signIn(url, email, PASSWORD);
  return { url, graphql, operatorCookie, integrationToken: token, stop: () => app.stop() };
}

const scheduledJobs = Object.values(contracts)
  .filter((job) => job.schedule)
  .map((job) => job.name);

// ───────────────────────────── Redis restarted and flushed ─────────────────────────────

export async function drillRedisRestart(stack: DrillStack): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  if (!stack.worker.alive) await stack.worker.start();
  const region = await createRegion(stack.db, 10_000);
  // PostgreSQL's truth before the outage: refunds approved a few minutes ago that Stripe has not
  // confirmed (their retries queued in Redis), and emails waiting in the outbox.
  const refunds = await Promise.all(
    Array.from({ length: 4 }, () => claimedRefund(stack.db, stack.stripe, region.id, 3 * 60_000)),
  );
  for (const { requestId } of refunds)
    await stack.queue.enqueue("refund-execute", { refundRequestId: requestId }, { delayMs: 60_000 });
  const emails = await enqueueEmails(stack.db, 10, "redis");
  // A Stripe event the webhook stored minutes ago, its job in backoff in Redis (the flush loses it;
  // PostgreSQL still says RECEIVED), and a placement whose paid time ended, the expiry run due for it
  // lost with Redis too.
  const webhook = await receivedStripeEvent(
    stack.db,
    stack.stripe,
    await createBusiness(stack.db, region.id),
    3 * 60_000,
  );
  await stack.queue.enqueue("stripe-event", { eventId: webhook.eventId }, { delayMs: 60_000 });
  const ended = await createPaidPlacement(
    stack.db,
    stack.stripe,
    await createBusiness(stack.db, region.id),
    new Date(),
  );
  await stack.db.placement.update({
    where: { paymentId: ended.id },
    data: { featuredUntil: new Date(Date.now() - 60_000) },
  });
  const workerPid = stack.worker.pid;
  const before = (await stack.queue.scheduleNames()).length;

  // Mid-run: the worker is busy on a slow Stripe when Redis goes away; it comes back empty.
  stack.stripe.faults.set({ slowMs: 1_000 });
  // Their refund-execute jobs run now (unless a refund-recovery sweep queued them undelayed already).
  for (const { requestId } of refunds)
    await (await stack.queue.getJob(`refund-execute-${requestId}`))?.promote().catch(() => undefined);
  await sleep(300);
  await stack.redis.stop();
  await sleep(2_000);
  await stack.redis.start();
  await stack.redis.flushAll();
  const restartedAt = Date.now();
  stack.stripe.faults.clear();

  const restoreMs = await waitUntil(
    "the schedules to be restored",
    async () => {
      const keys = new Set(await stack.queue.scheduleNames());
      return scheduledJobs.every((name) => keys.has(name));
    },
    30_000,
    200,
  ).catch(() => -1);
  checks.expect("every schedule restored in Redis", restoreMs >= 0, `${before} before, restored in ${restoreMs} ms`);
  const ids = refunds.map((r) => r.requestId);
  await waitUntil(
    "the pending refunds to complete",
    async () => (await stack.db.refundRequest.count({ where: { id: { in: ids }, status: "APPROVED" } })) === ids.length,
    60_000,
    250,
  ).catch(() => undefined);
  checks.equal(
    "every refund PostgreSQL held as PROCESSING completed",
    await stack.db.refundRequest.count({ where: { id: { in: ids }, status: "APPROVED" } }),
    ids.length,
  );
  checks.equal(
    "exactly one Stripe refund each",
    refunds.filter(
      (r) => stack.stripe.state.refunds.values().filter((x) => x.charge === r.payment.stripeChargeId).length === 1,
    ).length,
    ids.length,
  );
  await waitUntil(
    "the stored Stripe event to be processed",
    async () =>
      (await stack.db.stripeWebhookEvent.findUnique({ where: { id: webhook.eventId } }))?.status === "PROCESSED",
    60_000,
    250,
  ).catch(() => undefined);
  const event = await stack.db.stripeWebhookEvent.findUnique({ where: { id: webhook.eventId } });
  checks.expect(
    "the Stripe event PostgreSQL held as RECEIVED was processed",
    event?.status === "PROCESSED",
    `${event?.status ?? "missing"}, ${event?.attempts ?? 0} attempt(s)`,
  );
  const eventPayments = await stack.db.payment.findMany({
    where: { stripeChargeId: webhook.chargeId },
    include: { placement: true },
  });
  checks.equal(
    "once: one payment, one placement, one processing for its charge",
    eventPayments.length +
      eventPayments.filter((payment) => payment.placement).length +
      (await stack.db.auditEvent.count({ where: { action: "stripe.webhook_processed", targetId: webhook.eventId } })),
    3,
  );
  await waitUntil(
    "the ended placement to expire",
    async () => (await stack.db.placement.findUnique({ where: { paymentId: ended.id } }))?.status === "EXPIRED",
    30_000,
    250,
  ).catch(() => undefined);
  checks.expect(
    "the placement whose paid time ended was expired",
    (await stack.db.placement.findUnique({ where: { paymentId: ended.id } }))?.status === "EXPIRED",
  );
  const emailNote = await deliverAndCheckEmails(stack, checks, emails, 0);
  checks.expect(
    "the worker reconnected by itself (same process)",
    stack.worker.alive && stack.worker.pid === workerPid,
  );
  const probe = await stack.queue.add("heartbeat", { trigger: "MANUAL" });
  const probeMs = await waitUntil(
    "a new job after the restart",
    async () => (await stack.queue.getJobState(probe.id ?? "")) === "completed",
    30_000,
  ).catch(() => -1);
  checks.expect("new jobs run after the restart", probeMs >= 0);
  return {
    name: "Redis restarted mid-run and flushed",
    runs: "1 restart",
    checks: checks.list,
    durationMs: Date.now() - started,
    figures: `schedules back ${restoreMs} ms after Redis; all work done ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after; ${emailNote}`,
  };
}

// ───────────────────────────── PostgreSQL restarted ─────────────────────────────

export async function drillPostgresRestart(): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  let postgres: OwnPostgres | null = null;
  let stack: DrillStack | null = null;
  let api: DrillApi | null = null;
  try {
    postgres = await startOwnPostgres();
    trace("own PostgreSQL up");
    stack = await startDrillStack({ postgresUrl: postgres.baseUrl });
    await stack.worker.start();
    trace("stack and worker up");
    const workerPid = stack.worker.pid;
    api = await startDrillApi(stack);
    const business = await createBusiness(stack.db, (await createRegion(stack.db)).id);
    const businessId = gid("Business", business.id);

    // Integrations keep submitting reviews, and /readyz is polled, through the whole outage.
    const outcomes: { body: string; ok: boolean; code: string | null; status: number }[] = [];
    const readiness: { at: number; ok: boolean }[] = [];
    let running = true;
    let n = 0;
    const writer = (async () => {
      while (running) {
        const body = `PostgreSQL drill review ${++n}: great recall training.`;
        try {
          const result = await api.graphql(
            `mutation ($businessId: ID!, $body: String!) { submitReview(businessId: $businessId, rating: 5, body: $body) { __typename } }`,
            { businessId, body },
            { bearer: api.integrationToken },
          );
          const typename = (result.data?.submitReview as { __typename?: string } | undefined)?.__typename;
          outcomes.push({
            body,
            ok: typename === "MutationSubmitReviewSuccess",
            code: result.errors?.[0]?.extensions?.code ?? null,
            status: result.status,
          });
        } catch {
          outcomes.push({ body, ok: false, code: "NO_ANSWER", status: 0 });
        }
        await sleep(50);
      }
    })();
    const poller = (async () => {
      while (running) {
        const response = await fetch(`${api.url}/readyz`).catch(() => null);
        readiness.push({ at: Date.now(), ok: response?.status === 200 });
        await sleep(100);
      }
    })();
    await sleep(1_500);
    const stoppedAt = Date.now();
    await postgres.stop();
    trace(`PostgreSQL stopped; ${outcomes.length} writes so far`);
    await waitUntil("readyz to fail", () => readiness.some((r) => r.at > stoppedAt && !r.ok), 15_000, 50).catch(
      () => undefined,
    );
    const failedAt = readiness.find((r) => r.at > stoppedAt && !r.ok)?.at ?? Infinity;
    await sleep(3_000);
    const duringOutage = outcomes.length;
    const restartAt = Date.now();
    await postgres.start();
    trace(`PostgreSQL started again; ${outcomes.length} writes so far`);
    await waitUntil(
      "readyz and writes to recover",
      () => readiness.some((r) => r.at > restartAt && r.ok) && outcomes.slice(duringOutage).some((o) => o.ok),
      30_000,
      100,
    ).catch(() => undefined);
    const recoveredAt = readiness.find((r) => r.at > restartAt && r.ok)?.at ?? Infinity;
    await sleep(1_000);
    running = false;
    await Promise.all([writer, poller]);

    checks.expect(
      "/readyz fails within 5 s of PostgreSQL going down",
      failedAt - stoppedAt <= 5_000,
      `${failedAt - stoppedAt} ms`,
    );
    const failures = outcomes.filter((o) => !o.ok);
    const untyped = failures.filter((o) => o.code !== "UNAVAILABLE");
    checks.expect("writes failed during the outage", failures.length > 0, `${failures.length} failed`);
    checks.expect(
      "every failed write got the typed UNAVAILABLE error",
      untyped.length === 0,
      untyped
        .slice(0, 3)
        .map((o) => `${o.status} ${o.code ?? "no code"}`)
        .join(", "),
    );
    const rows = await stack.db.review.findMany({
      where: { businessId: business.id },
      select: { id: true, body: true },
    });
    const stored = new Set(rows.map((row) => row.body));
    const lost = outcomes.filter((o) => o.ok && !stored.has(o.body)).length;
    const partial = outcomes.filter((o) => !o.ok && stored.has(o.body)).length;
    checks.equal("no acknowledged write lost", lost, 0);
    checks.equal("no failed write half-done (stored anyway)", partial, 0);
    const audited = await stack.db.auditEvent.count({
      where: { action: "review.submit", targetId: { in: rows.map((row) => row.id) } },
    });
    checks.equal("every stored review has its audit event (no partial transaction)", audited, rows.length);
    checks.expect(
      "full recovery without restarting Steward (readyz, writes, same worker)",
      recoveredAt - restartAt <= 15_000 &&
        outcomes.slice(duringOutage).some((o) => o.ok) &&
        stack.worker.pid === workerPid,
      `readyz back ${recoveredAt - restartAt} ms after PostgreSQL`,
    );
    // The worker recovers too: every review stored is scored (its jobs retried through the outage).
    const scored = await waitUntil(
      "every review scored",
      async () => (await stack!.db.review.count({ where: { businessId: business.id, aiScoredAt: null } })) === 0,
      60_000,
      250,
    ).catch(() => -1);
    checks.expect("the worker scored every stored review after the outage", scored >= 0);
    trace("checks done");
    return {
      name: "PostgreSQL restarted (own cluster)",
      runs: `1 restart, ${outcomes.length} writes`,
      checks: checks.list,
      durationMs: Date.now() - started,
      figures: `readyz 503 after ${failedAt - stoppedAt} ms, 200 again ${recoveredAt - restartAt} ms after restart; ${failures.length} writes refused UNAVAILABLE`,
    };
  } finally {
    trace("stopping the PostgreSQL drill's stack");
    // Bounded: a shutdown that hangs must fail the drill, not hang it.
    const bounded = (label: string, work: Promise<void> | undefined) =>
      Promise.race([work, sleep(20_000).then(() => console.error(`drill: ${label} did not stop within 20 s`))]);
    await bounded("the API", api?.stop());
    await bounded(
      "the stack",
      stack?.stop().catch(() => undefined),
    );
    await postgres?.destroy();
  }
}

// ───────────────────────────── Stripe slow, 429, 500 ─────────────────────────────

export async function drillStripeFaults(stack: DrillStack, count = 30): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  if (!stack.worker.alive) await stack.worker.start();
  const api = await startDrillApi(stack);
  try {
    const region = await createRegion(stack.db, 10_000);
    const requests: { id: string; chargeId: string }[] = [];
    for (let index = 0; index < count; index++) {
      const business = await createBusiness(stack.db, region.id);
      const payment = await createPaidPlacement(stack.db, stack.stripe, business, new Date(Date.now() - 3_600_000));
      const asked = await api.graphql(
        `mutation ($charge: String!) { requestRefund(stripeChargeId: $charge, reason: "Drill refund") { __typename ... on MutationRequestRefundSuccess { data { id } } } }`,
        { charge: payment.stripeChargeId },
        { bearer: api.integrationToken },
      );
      const data = asked.data?.requestRefund as { data?: { id: string } } | undefined;
      if (!data?.data) throw new Error(`refund request refused: ${JSON.stringify(asked)}`);
      requests.push({ id: data.data.id, chargeId: payment.stripeChargeId });
    }
    stack.stripe.clearRequests();
    stack.stripe.rateLimiter.reset();
    const approve = (id: string) =>
      api.graphql(
        `mutation ($id: ID!) { approveRefund(id: $id) { __typename ... on MutationApproveRefundSuccess { data { status } } } }`,
        { id },
        { cookie: api.operatorCookie },
      );
    // First a third at once while Stripe answers 500 (the SDK retries with the same key), then the
    // rest at once while it answers 429 (the refund-execute job's attempts retry with backoff),
    // all slow and with the real 25 requests/s limit on.
    const third = Math.ceil(count / 3);
    stack.stripe.faults.set({ mode: "error500", count: third, paths: ["/v1/refunds"], methods: ["POST"], slowMs: 200 });
    const answers = await Promise.all(requests.slice(0, third).map((r) => approve(r.id)));
    stack.stripe.faults.set({ mode: "rateLimit429", count: third, paths: ["/v1/refunds"], methods: ["POST"] });
    answers.push(...(await Promise.all(requests.slice(third).map((r) => approve(r.id)))));
    const processing = answers.filter(
      (a) => (a.data?.approveRefund as { data?: { status: string } } | undefined)?.data?.status === "PROCESSING",
    ).length;
    const ids = requests.map((r) => Buffer.from(r.id, "base64").toString().split(":")[1] ?? "");
    await waitUntil(
      "every approved refund completed",
      async () =>
        (await stack.db.refundRequest.count({ where: { id: { in: ids }, status: "APPROVED" } })) === ids.length,
      120_000,
      250,
    ).catch(() => undefined);
    const injected = stack.stripe.faults.snapshot().injected;
    stack.stripe.faults.clear();
    checks.equal(
      "every approved refund completed",
      await stack.db.refundRequest.count({ where: { id: { in: ids }, status: "APPROVED" } }),
      ids.length,
    );
    checks.equal(
      "exactly one Stripe refund per request",
      requests.filter((r) => stack.stripe.state.refunds.values().filter((x) => x.charge === r.chargeId).length === 1)
        .length,
      count,
    );
    checks.equal(
      "one email queued per refund",
      await stack.db.outboxMessage.count({ where: { dedupKey: { in: ids.map((id) => `refund-approved-${id}`) } } }),
      count,
    );
    // Retries back off: attempts with the same idempotency key are spaced out, never hammered.
    const log = stack.stripe.requests().filter((r) => r.path === "/v1/refunds" && r.method === "POST");
    const byKey = new Map<string, number[]>();
    const retryTimes: number[] = [];
    for (const entry of log) {
      const times = byKey.get(entry.idempotencyKey ?? "") ?? [];
      if (times.length > 0) retryTimes.push(entry.at);
      times.push(entry.at);
      byKey.set(entry.idempotencyKey ?? "", times);
    }
    let minGap = Infinity;
    for (const times of byKey.values())
      for (let index = 1; index < times.length; index++) minGap = Math.min(minGap, times[index]! - times[index - 1]!);
    const retried = [...byKey.values()].filter((times) => times.length > 1).length;
    checks.expect("some refunds needed retries", retried > 0, `${retried}`);
    checks.expect("retries wait (backoff ≥ 200 ms between attempts of one refund)", minGap >= 200, `${minGap} ms`);
    checks.expect(
      "every refund call carried its idempotency key",
      log.every((r) => r.idempotencyKey !== null),
    );
    const maxIn1s = (times: readonly number[]) => {
      let max = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while (times[i]! - times[j]! >= 1000) j++;
        max = Math.max(max, i - j + 1);
      }
      return max;
    };
    // What Stripe accepted in any one second, and what our retries sent: never a retry storm.
    const accepted = maxIn1s(
      stack.stripe
        .requests()
        .filter((r) => r.status !== 429)
        .map((r) => r.at),
    );
    const retryRate = maxIn1s(retryTimes);
    checks.expect("within Stripe's 25 requests/s", accepted <= 25, `max ${accepted} accepted in 1 s`);
    checks.expect("retries alone stay under 25 requests/s", retryRate <= 25, `max ${retryRate} retries in 1 s`);
    const limited = stack.stripe.requests().filter((r) => r.status === 429 && r.fault === null).length;
    return {
      name: "Stripe slow, 500 and 429 (25 req/s limit on)",
      runs: `${count} approvals at once`,
      checks: checks.list,
      durationMs: Date.now() - started,
      figures: `${injected.error500} × 500 and ${injected.rateLimit429} × 429 injected, ${limited} real 429s from the limiter; ${processing} answered PROCESSING at approval, finished by refund-execute; ${retried} refunds retried (min gap ${minGap} ms); max ${accepted} req/s accepted`,
    };
  } finally {
    await api.stop();
  }
}

// ───────────────────────────── SMTP receiver down ─────────────────────────────

/**
 * The receiver goes away while emails are due; deliveries fail, back off (30 s, 1 min, ...) and go
 * out once it is back. `realBackoff` waits the real 30 s; otherwise the wait is skipped by moving
 * the messages' next attempt to now ("time passes"), which is what the backoff would reach.
 */
export async function drillSmtpDown(stack: DrillStack, options: { realBackoff: boolean }): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  if (!stack.worker.alive) await stack.worker.start();
  const keys = await enqueueEmails(stack.db, 12, "smtpdown");
  await stack.smtp.down();
  const failedCount = () => stack.db.outboxMessage.count({ where: { dedupKey: { in: keys }, status: "FAILED" } });
  await waitUntil(
    "deliveries to fail while SMTP is down",
    async () => {
      if ((await failedCount()) === keys.length) return true;
      await stack.queue.add("outbox-delivery", { trigger: "MANUAL" });
      await sleep(1_000);
      return false;
    },
    60_000,
    0,
  );
  // Down for a while: more runs come and go, and nothing is given up.
  for (let index = 0; index < 3; index++) {
    await stack.queue.add("outbox-delivery", { trigger: "MANUAL" });
    await sleep(700);
  }
  checks.equal("every email waiting (FAILED, to retry) while SMTP is down", await failedCount(), keys.length);
  checks.equal(
    "none given up (DEAD) while SMTP is down",
    await stack.db.outboxMessage.count({ where: { dedupKey: { in: keys }, status: "DEAD" } }),
    0,
  );
  const downFor = Date.now() - started;
  await stack.smtp.up();
  if (options.realBackoff) {
    const next = await stack.db.outboxMessage.aggregate({
      where: { dedupKey: { in: keys } },
      _max: { nextAttemptAt: true },
    });
    await sleep(Math.max(0, (next._max.nextAttemptAt?.getTime() ?? Date.now()) - Date.now()));
  } else {
    await stack.db.outboxMessage.updateMany({ where: { dedupKey: { in: keys } }, data: { nextAttemptAt: new Date() } });
  }
  const emailNote = await deliverAndCheckEmails(stack, checks, keys, 0);
  const attempts = await stack.db.deliveryAttempt.groupBy({
    by: ["ok"],
    where: { outbox: { dedupKey: { in: keys } } },
    _count: true,
  });
  const failedAttempts = attempts.find((a) => !a.ok)?._count ?? 0;
  return {
    name: "SMTP receiver down for a while",
    runs: `${keys.length} emails`,
    checks: checks.list,
    durationMs: Date.now() - started,
    figures: `down ${(downFor / 1000).toFixed(1)} s; ${failedAttempts} failed attempts recorded, then each sent once (${options.realBackoff ? "real backoff" : "backoff skipped"}); ${emailNote}`,
  };
}

// ───────────────────────────── Slack receiver down ─────────────────────────────

/** The notify sandbox's Slack receiver on a fixed port, so it can go away and come back. */
async function startDrillSlack() {
  const port = await freePort();
  const archived: ReceivedNotification[] = [];
  let server: NotifySandbox | null = await startNotifySandbox({ port });
  return {
    webhookUrl: `http://127.0.0.1:${port}/slack/T0DRILL/B0DRILL/drill-secret`,
    /** Everything the receiver saw, across restarts, oldest first. */
    received: () => [...archived, ...(server?.received("slack") ?? [])],
    /** Gone: connections refused. */
    async down() {
      if (!server) return;
      archived.push(...server.received("slack"));
      await server.stop();
      server = null;
    },
    /** Back, answering 500 until `ok()`. */
    async upFailing() {
      server ??= await startNotifySandbox({ port });
      server.fail();
    },
    ok: () => server?.ok(),
    stop: async () => {
      await server?.stop();
      server = null;
    },
  };
}

/** Which alert a Slack message is about (the context line ends with the alert's fingerprint). */
function slackFingerprint(body: unknown): string | null {
  const blocks = (body as { blocks?: { type: string; elements?: { text?: string }[] }[] } | null)?.blocks ?? [];
  const context = blocks.find((block) => block.type === "context")?.elements?.[0]?.text ?? "";
  return context.split(" · ").at(-1) ?? null;
}

/**
 * Alerts raised (and resolved, and raised again) while the Slack receiver is down, then while it
 * answers 500: deliveries fail, back off and wait (FAILED, never DEAD within the retry budget;
 * later messages of an alert wait behind its first); once Slack is back each message goes out
 * once, in order per alert. `realBackoff` waits the real 30 s + 1 min; otherwise "time passes" by
 * moving the next attempt to now.
 */
export async function drillSlackDown(stack: DrillStack, options: { realBackoff: boolean }): Promise<DrillResult> {
  const started = Date.now();
  const checks = new Checks();
  if (!stack.worker.alive) await stack.worker.start();
  const slack = await startDrillSlack();
  const tag = `drill.slack.${Date.now().toString(36)}`;
  // Encrypted under the key the worker reads from the same environment.
  const secrets = channelSecretCipher(loadEnv({ ...stack.env, LOG_LEVEL: "silent" }));
  const channel = await upsertNotificationChannel({ db: stack.db, secrets }, systemActor("drill"), {
    name: `Drill Slack ${tag}`,
    kind: "SLACK",
    severities: ["RED", "YELLOW", "GREEN"],
    url: slack.webhookUrl,
  });
  try {
    await slack.down();
    // Per alert: fired; fired and resolved; fired, resolved and fired again (reopened).
    const sequences: string[][] = [];
    const alerts = 6;
    // Raised as the worker's rules would; nobody here listens to their changes.
    const alerting = {
      db: stack.db,
      events: { publish: () => undefined },
      jobs: stack.queue,
      logger: createLogger("drill-slack", "silent"),
    };
    for (let index = 0; index < alerts; index++) {
      const condition = {
        fingerprint: `${tag}.${index}`,
        // A key of the drill's own, outside the registry, so its alerts never mix with a real rule's.
        ruleKey: "drill.slack" as AlertRuleKey,
        severity: index % 3 === 0 ? ("RED" as const) : index % 3 === 1 ? ("YELLOW" as const) : ("GREEN" as const),
        title: `Slack drill alert ${index}`,
        detail: `Raised while Slack is down (${index})`,
      };
      const events = ["Firing"];
      await raiseAlert(alerting, condition);
      if (index % 3 >= 1) {
        await clearAlert(alerting, condition.fingerprint, "Drill: condition cleared");
        events.push("Resolved");
      }
      if (index % 3 === 2) {
        await raiseAlert(alerting, condition);
        events.push("Firing");
      }
      sequences.push(events);
    }
    const mine = { channelId: channel.id, alert: { fingerprint: { startsWith: tag } } };
    const expectedMessages = sequences.reduce((sum, events) => sum + events.length, 0);
    checks.equal(
      "one Slack delivery queued per alert event",
      await stack.db.outboxMessage.count({ where: mine }),
      expectedMessages,
    );
    const count = (status: "PENDING" | "FAILED" | "SENT" | "DEAD") =>
      stack.db.outboxMessage.count({ where: { ...mine, status } });
    const deliverUntil = async (label: string, done: () => Promise<boolean>) =>
      waitUntil(
        label,
        async () => {
          if (await done()) return true;
          await stack.queue.add("outbox-delivery", { trigger: "MANUAL" });
          await sleep(1_000);
          return false;
        },
        options.realBackoff ? 180_000 : 60_000,
        0,
      );
    // Down (connection refused): each alert's first message fails; the rest wait behind it.
    await deliverUntil("each alert's first Slack message to fail", async () => (await count("FAILED")) === alerts);
    for (let index = 0; index < 2; index++) {
      await stack.queue.add("outbox-delivery", { trigger: "MANUAL" });
      await sleep(700);
    }
    checks.equal("while down: each alert's first message FAILED (to retry)", await count("FAILED"), alerts);
    checks.equal(
      "while down: later messages wait behind their alert's first",
      await count("PENDING"),
      expectedMessages - alerts,
    );
    const timePasses = async () => {
      if (options.realBackoff) {
        const next = await stack.db.outboxMessage.aggregate({ where: mine, _max: { nextAttemptAt: true } });
        await sleep(Math.max(0, (next._max.nextAttemptAt?.getTime() ?? Date.now()) - Date.now()));
      } else {
        await stack.db.outboxMessage.updateMany({ where: mine, data: { nextAttemptAt: new Date() } });
      }
    };
    // Back, but answering 500: the retry fails again and backs off further.
    await slack.upFailing();
    await timePasses();
    await deliverUntil(
      "each first message to fail a second time (HTTP 500)",
      async () =>
        (await stack.db.outboxMessage.count({ where: { ...mine, status: "FAILED", attempts: 2 } })) === alerts,
    );
    checks.equal("none given up (DEAD) while Slack is down or failing", await count("DEAD"), 0);
    const downFor = Date.now() - started;
    slack.ok();
    await timePasses();
    await deliverUntil("every Slack message SENT", async () => (await count("SENT")) === expectedMessages);

    checks.equal("every Slack message SENT", await count("SENT"), expectedMessages);
    checks.equal("none DEAD", await count("DEAD"), 0);
    const delivered = slack
      .received()
      .filter((r) => r.status === 200 && (slackFingerprint(r.body) ?? "").startsWith(tag));
    const refused = slack
      .received()
      .filter((r) => r.status === 500 && (slackFingerprint(r.body) ?? "").startsWith(tag));
    checks.equal("each message reached Slack once (one 200 per message)", delivered.length, expectedMessages);
    let inOrder = 0;
    for (let index = 0; index < alerts; index++) {
      const got = delivered
        .filter((r) => slackFingerprint(r.body) === `${tag}.${index}`)
        .map((r) => ((r.body as { text?: string }).text ?? "").split("]")[1]?.trim().split(":")[0] ?? "");
      if (JSON.stringify(got) === JSON.stringify(sequences[index])) inOrder++;
    }
    checks.equal("per alert, Slack got its events once each and in order", inOrder, alerts);
    const log = await stack.db.deliveryAttempt.findMany({
      where: { outbox: mine },
      orderBy: [{ outboxId: "asc" }, { attempt: "asc" }],
      select: { outboxId: true, ok: true, responseCode: true },
    });
    const byMessage = new Map<string, typeof log>();
    for (const attempt of log) byMessage.set(attempt.outboxId, [...(byMessage.get(attempt.outboxId) ?? []), attempt]);
    checks.equal(
      "delivery log: exactly one successful attempt per message, after its failures",
      [...byMessage.values()].filter((attempts) => attempts.filter((a) => a.ok).length === 1 && attempts.at(-1)?.ok)
        .length,
      expectedMessages,
    );
    const failed = log.filter((a) => !a.ok);
    checks.expect(
      "delivery log records the outage (refused connection) and the 500s",
      failed.some((a) => a.responseCode === null) && failed.some((a) => a.responseCode === 500),
      `${failed.length} failed attempts`,
    );
    return {
      name: "Slack receiver down, then 500, for a while",
      runs: `${alerts} alerts, ${expectedMessages} messages`,
      checks: checks.list,
      durationMs: Date.now() - started,
      figures: `down/failing ${(downFor / 1000).toFixed(1)} s; ${failed.length} failed attempts logged (${refused.length} answered 500), then each sent once, in order (${options.realBackoff ? "real backoff" : "backoff skipped"})`,
    };
  } finally {
    // Later drills' alerts must not queue messages for a receiver that is gone.
    await stack.db.notificationChannel.update({ where: { id: channel.id }, data: { enabled: false } });
    await slack.stop();
  }
}
