import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StripeSandbox } from "../../src/stripe/server.ts";
import { control, sdk, startSandbox } from "./helpers.ts";

let sandbox: StripeSandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.stop());
beforeEach(() => {
  sandbox.reset();
  sandbox.setRateLimit(false);
});

describe("injected faults surface as the SDK error classes", () => {
  it("error500 → StripeAPIError without retries", async () => {
    const stripe = sdk(sandbox, { maxNetworkRetries: 0 });
    sandbox.faults.set({ mode: "error500", count: 1 });
    const error = await stripe.charges.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 500, rawType: "api_error" });
    // count: 1 is used up.
    await expect(stripe.charges.list()).resolves.toMatchObject({
      object: "list",
    });
  });

  it("rateLimit429 over HTTP control → StripeRateLimitError", async () => {
    const stripe = sdk(sandbox, { maxNetworkRetries: 0 });
    const set = await control(sandbox, "POST", "/_sandbox/faults", {
      mode: "rateLimit429",
      count: 2,
    });
    expect(set.status).toBe(200);
    const error = await stripe.charges.create({ amount: 2200, currency: "aud" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: "rate_limit" });
    expect((error as Stripe.errors.StripeError).headers?.["retry-after"]).toBe("1");
    expect(sandbox.state.charges.size).toBe(0);
    expect((await control(sandbox, "GET", "/_sandbox/faults")).json).toMatchObject({
      active: { mode: "rateLimit429", remaining: 1 },
    });
    expect((await control(sandbox, "DELETE", "/_sandbox/faults")).json).toMatchObject({ active: null });
  });

  it("the SDK retries 500s with the same idempotency key and succeeds once", async () => {
    const stripe = sdk(sandbox, { maxNetworkRetries: 2 });
    sandbox.faults.set({
      mode: "error500",
      count: 2,
      paths: ["/v1/charges"],
      methods: ["POST"],
    });
    const charge = await stripe.charges.create({
      amount: 2200,
      currency: "aud",
    });
    expect(charge.status).toBe("succeeded");
    expect(sandbox.state.charges.size).toBe(1);
    const posts = sandbox.requests().filter((r) => r.method === "POST");
    expect(posts.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(posts.map((r) => r.fault)).toEqual(["error500", "error500", null]);
    expect(new Set(posts.map((r) => r.idempotencyKey)).size).toBe(1);
  }, 15_000);

  it("more failures than retries still fails", async () => {
    const stripe = sdk(sandbox, { maxNetworkRetries: 1 });
    sandbox.faults.set({ mode: "error500", count: 3 });
    await expect(stripe.charges.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
  }, 15_000);

  it("faults can target paths: refunds fail while charges work", async () => {
    const stripe = sdk(sandbox, { maxNetworkRetries: 0 });
    sandbox.faults.set({ mode: "error500", paths: ["/v1/refunds"] });
    const charge = await stripe.charges.create({
      amount: 2200,
      currency: "aud",
    });
    await expect(stripe.refunds.create({ charge: charge.id })).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    await expect(stripe.refunds.create({ charge: charge.id })).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    sandbox.faults.set({ mode: "none" });
    await expect(stripe.refunds.create({ charge: charge.id })).resolves.toMatchObject({ amount: 2200 });
  });

  it("timeout: the request is executed but answered late; the retry with the same key is replayed", async () => {
    const stripe = sdk(sandbox, { maxNetworkRetries: 1, timeout: 300 });
    const charge = await stripe.charges.create({
      amount: 2200,
      currency: "aud",
    });
    sandbox.faults.set({
      mode: "timeout",
      count: 1,
      delayMs: 1_500,
      paths: ["/v1/refunds"],
    });
    const refund = await stripe.refunds.create({ charge: charge.id }, { idempotencyKey: `refund-${charge.id}` });
    expect(refund.amount).toBe(2200);
    expect(refund.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(sandbox.state.refunds.size).toBe(1);

    // Without SDK retries the caller just sees a connection error.
    const noRetry = sdk(sandbox, { maxNetworkRetries: 0, timeout: 200 });
    sandbox.faults.set({ mode: "timeout", count: 1, delayMs: 1_000 });
    await expect(noRetry.charges.list()).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
  }, 15_000);

  it("slowMs adds latency to every request", async () => {
    const stripe = sdk(sandbox);
    await control(sandbox, "POST", "/_sandbox/faults", { slowMs: 150 });
    const started = Date.now();
    await stripe.charges.list();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(sandbox.requests().at(-1)?.durationMs).toBeGreaterThanOrEqual(140);
  });

  it("rejects a malformed fault payload", async () => {
    expect((await control(sandbox, "POST", "/_sandbox/faults", { mode: "explode" })).status).toBe(400);
    expect(
      (
        await control(sandbox, "POST", "/_sandbox/faults", {
          mode: "error500",
          count: -1,
        })
      ).status,
    ).toBe(400);
  });
});

describe("rate limiting like test mode", () => {
  it("answers 429 above the per-second limit and recovers", async () => {
    sandbox.setRateLimit(5);
    const stripe = sdk(sandbox, { maxNetworkRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => stripe.charges.list({ limit: 1 })));
    const rejected = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    expect(rejected).toHaveLength(3);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await expect(stripe.charges.list({ limit: 1 })).resolves.toBeTruthy();
  });

  it("can be switched off over HTTP", async () => {
    sandbox.setRateLimit(2);
    const off = await control(sandbox, "POST", "/_sandbox/config", {
      rateLimitPerSecond: false,
    });
    expect(off.json).toMatchObject({ rateLimitPerSecond: false });
    const stripe = sdk(sandbox, { maxNetworkRetries: 0 });
    await Promise.all(Array.from({ length: 10 }, () => stripe.charges.list({ limit: 1 })));
  });

  it("defaults to 25 requests per second", async () => {
    const fresh = await startSandbox({ rateLimitPerSecond: undefined });
    try {
      expect(fresh.rateLimiter.limit).toBe(25);
    } finally {
      await fresh.stop();
    }
  });
});

describe("control endpoints", () => {
  it("reset empties everything and the request log records requests", async () => {
    const stripe = sdk(sandbox);
    await stripe.charges.create({ amount: 2200, currency: "aud" }, { idempotencyKey: "log-1" });
    await stripe.charges.create({ amount: 2200, currency: "aud" }, { idempotencyKey: "log-1" });
    const log = await control(sandbox, "GET", "/_sandbox/requests?path=/v1/charges");
    expect(log.json).toMatchObject({
      count: 2,
      data: [
        {
          method: "POST",
          path: "/v1/charges",
          idempotencyKey: "log-1",
          status: 200,
          replayed: false,
        },
        {
          method: "POST",
          path: "/v1/charges",
          idempotencyKey: "log-1",
          status: 200,
          replayed: true,
        },
      ],
    });
    expect((await control(sandbox, "POST", "/_sandbox/reset")).status).toBe(200);
    expect((await control(sandbox, "GET", "/_sandbox/state")).json).toMatchObject({
      charges: 0,
      refunds: 0,
      events: 0,
    });
    // The idempotency key was forgotten too: the same key now creates a new charge.
    await stripe.charges.create({ amount: 2200, currency: "aud" }, { idempotencyKey: "log-1" });
    expect(sandbox.state.charges.size).toBe(1);
  });

  it("bulk-creates charges with chosen timestamps, statuses and ids", async () => {
    const stripe = sdk(sandbox);
    const seeded = await control(sandbox, "POST", "/_sandbox/charges", {
      charges: [
        {
          id: "ch_seed_1",
          amount: 2200,
          created: 1_700_000_100,
          metadata: { payment_id: "p1" },
        },
        {
          amount: 2200,
          currency: "usd",
          created: 1_700_000_000,
          status: "failed",
        },
      ],
    });
    expect(seeded.json).toMatchObject({
      count: 2,
      ids: ["ch_seed_1", expect.stringMatching(/^ch_/)],
    });
    const page = await stripe.charges.list({ created: { gte: 1_700_000_000 } });
    expect(page.data.map((c) => [c.id === "ch_seed_1", c.status, c.currency])).toEqual([
      [true, "succeeded", "aud"],
      [false, "failed", "usd"],
    ]);
    const duplicate = await control(sandbox, "POST", "/_sandbox/charges", {
      charges: [{ id: "ch_seed_1", amount: 1 }],
    });
    expect(duplicate.status).toBe(400);
    expect(sandbox.state.charges.size).toBe(2);
    expect((await control(sandbox, "GET", "/_sandbox/nope")).status).toBe(404);
  });
});
