// The Stripe webhook endpoint attacked: a flood from one address is rate-limited; 200 unsigned
// posts write one audit row, not 200, and are counted in /metrics; deliveries signed with the
// wrong secret raise an alert at the next health-checks run; a body over the limit is answered
// 413 rather than a reset connection.
import { createApiToken } from "@steward/core/apiTokens";
import { runHealthChecks } from "@steward/core/health";
import { createStripeGateway } from "@steward/core/adapters/stripe";
import { Redis } from "ioredis";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../api/src/webhooks/stripe.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator } from "../support/fixtures.ts";
import { quietDeps } from "../support/deps.ts";

const SECRET = "whsec_steward_sandbox";
let api: TestApi;
let redis: Redis;
let metricsToken: string;

beforeAll(async () => {
  api = await startTestApi({ TRUSTED_PROXY_HOPS: "1", STRIPE_WEBHOOKS_PER_ADDRESS: "300" });
  redis = new Redis(api.env.REDIS_URL, { maxRetriesPerRequest: null });
  const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
  metricsToken = (
    await createApiToken(
      { db: api.database.db },
      { kind: "OPERATOR", ...admin },
      { name: "prometheus", scopes: ["metrics:read"] },
    )
  ).token;
});
afterAll(async () => {
  redis?.disconnect();
  await api?.stop();
});

async function deliver(body: string | Buffer, headers: Record<string, string> = {}, address = "192.0.2.1") {
  const response = await fetch(`${api.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": address, ...headers },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), text: await response.text() };
}

const eventFor = (id: string) =>
  JSON.stringify({ id, object: "event", type: "charge.updated", data: { object: { id: "ch_1", object: "charge" } } });
const signedWith = (payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)) => ({
  "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
});
const rejectionAudits = () => api.database.db.auditEvent.count({ where: { action: "stripe.webhook_rejected" } });

async function rejectedMetric(reason: string): Promise<number> {
  const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  const line = (await response.text())
    .split("\n")
    .find((candidate) => candidate.startsWith(`steward_stripe_webhook_rejected_total{reason="${reason}"}`));
  return Number(line?.split(" ").at(-1) ?? 0);
}

describe("the Stripe webhook endpoint under attack", () => {
  it("deliveries signed with another secret (a wrong STRIPE_WEBHOOK_SECRET) raise an alert at the next health check", async () => {
    // First in this file: no delivery has been accepted yet, as with a wrong secret.
    const deps = { ...quietDeps(api.database.db), redis, env: api.env, stripe: createStripeGateway(api.env) };
    for (let delivery = 0; delivery < 3; delivery++) {
      const payload = eventFor(`evt_rotated_${delivery}`);
      expect((await deliver(payload, signedWith(payload, "whsec_rotated_in_stripe"), "192.0.2.50")).status).toBe(400);
    }
    const run = await runHealthChecks(deps);
    expect(run.conditions.map((condition) => condition.fingerprint)).toContain("stripe.webhook_signatures");
    expect(run.results.find((result) => result.check === "webhooks")?.status).toBe("RED");
    const alert = await api.database.db.alert.findUniqueOrThrow({
      where: { fingerprint: "stripe.webhook_signatures" },
    });
    expect(alert.status).not.toBe("RESOLVED");
    expect(alert.detail).toMatch(/STRIPE_WEBHOOK_SECRET/);
  });

  it("200 unsigned posts are refused, counted in /metrics, and audited once for their window", async () => {
    const auditsBefore = await rejectionAudits();
    const metricBefore = await rejectedMetric("unsigned");
    for (let batch = 0; batch < 10; batch++) {
      const statuses = await Promise.all(
        Array.from({ length: 20 }, (_, index) => deliver(eventFor(`evt_unsigned_${batch}_${index}`), {}, "192.0.2.10")),
      );
      expect(statuses.map((answer) => answer.status)).toEqual(Array(20).fill(400));
    }
    // One row for the window (two if the run straddles a window's edge), never one per post.
    expect((await rejectionAudits()) - auditsBefore).toBeLessThanOrEqual(2);
    expect((await rejectedMetric("unsigned")) - metricBefore).toBe(200);
    expect(await api.database.db.stripeWebhookEvent.count()).toBe(0);
  });

  it("limits deliveries per address with 429 and Retry-After; other addresses are served", async () => {
    const statuses: number[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 80 }, (_, index) => deliver(eventFor(`evt_flood_${batch}_${index}`), {}, "192.0.2.20")),
      );
      statuses.push(...answers.map((answer) => answer.status));
    }
    expect(statuses.filter((status) => status === 400)).toHaveLength(300);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    const limited = await deliver(eventFor("evt_flood_more"), {}, "192.0.2.20");
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    const payload = eventFor("evt_from_stripe");
    expect((await deliver(payload, signedWith(payload, SECRET), "192.0.2.21")).status).toBe(200);
  });

  it("refuses a signature dated beyond the tolerance in the future", async () => {
    const payload = eventFor("evt_future");
    const ahead = await deliver(
      payload,
      signedWith(payload, SECRET, Math.floor(Date.now() / 1000) + 600),
      "192.0.2.30",
    );
    expect(ahead.status).toBe(400);
    expect(ahead.text).toMatch(/future/);
    expect(await api.database.db.stripeWebhookEvent.count({ where: { id: "evt_future" } })).toBe(0);
  });

  it("answers a body over the limit with 413, not a reset connection", async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, "a");
    const answer = await deliver(huge, {}, "192.0.2.40");
    expect(answer.status).toBe(413);
    expect(answer.text).toContain(String(MAX_BODY_BYTES));
    // Without a declared length too (chunked), the answer is still a 413.
    let sent = 0;
    const chunks = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(new Uint8Array(64 * 1024));
        else controller.close();
      },
    });
    const response = await fetch(`${api.url}/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.41" },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
  });
});
