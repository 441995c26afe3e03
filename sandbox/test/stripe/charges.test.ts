import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StripeSandbox } from "../../src/stripe/server.ts";
import { control, sdk, startSandbox } from "./helpers.ts";

let sandbox: StripeSandbox;
let stripe: Stripe;

beforeAll(async () => {
  sandbox = await startSandbox();
  stripe = sdk(sandbox);
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

describe("charges through the real SDK", () => {
  it("creates and retrieves a charge with metadata", async () => {
    const created = await stripe.charges.create({
      amount: 2200,
      currency: "aud",
      description: "Featured placement",
      metadata: { business_id: "biz_1", region: "inner-west" },
    });
    expect(created).toMatchObject({
      object: "charge",
      amount: 2200,
      amount_captured: 2200,
      amount_refunded: 0,
      captured: true,
      paid: true,
      refunded: false,
      status: "succeeded",
      currency: "aud",
      livemode: false,
      failure_code: null,
      metadata: { business_id: "biz_1", region: "inner-west" },
    });
    expect(created.id).toMatch(/^ch_[0-9A-Za-z]{24}$/);
    expect(Math.abs(created.created - Date.now() / 1000)).toBeLessThan(5);

    const fetched = await stripe.charges.retrieve(created.id);
    expect(fetched).toEqual(created);
    // Every POST carries an idempotency key (the SDK adds one).
    const post = sandbox.requests().find((r) => r.method === "POST" && r.path === "/v1/charges");
    expect(post?.idempotencyKey).toMatch(/^stripe-node-retry-/);
    expect(post?.stripeVersion).toBeTruthy();
  });

  it("answers resource_missing for an unknown charge", async () => {
    const error = await stripe.charges.retrieve("ch_doesnotexist").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      code: "resource_missing",
      statusCode: 404,
      param: "id",
    });
  });

  it("stores a declined charge and raises StripeCardError", async () => {
    const error = await stripe.charges
      .create({ amount: 2200, currency: "aud", source: "tok_chargeDeclined" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({
      code: "card_declined",
      decline_code: "generic_decline",
      statusCode: 402,
    });
    const chargeId = (error as Stripe.errors.StripeCardError).charge;
    expect(chargeId).toMatch(/^ch_/);
    const failed = await stripe.charges.retrieve(chargeId ?? "");
    expect(failed).toMatchObject({
      status: "failed",
      paid: false,
      captured: false,
      failure_code: "card_declined",
    });
    const events = await stripe.events.list({ type: "charge.failed" });
    expect(events.data.map((e) => (e.data.object as Stripe.Charge).id)).toEqual([chargeId]);
  });

  it("rejects bad parameters like Stripe", async () => {
    await expect(
      stripe.charges.create({
        amount: 2200,
        currency: "aud",
        foo: "bar",
      } as Stripe.ChargeCreateParams),
    ).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      code: "parameter_unknown",
      param: "foo",
    });
    await expect(stripe.charges.list({ limit: 101 })).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      param: "limit",
    });
    await expect(stripe.charges.create({ amount: 10, currency: "aud" })).rejects.toMatchObject({
      code: "amount_too_small",
    });
  });

  it("rejects a bad API key with StripeAuthenticationError", async () => {
    const wrong = sdk(sandbox, { apiKey: "sk_test_wrong_key_123456" });
    const error = await wrong.charges.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error).toMatchObject({ statusCode: 401 });
  });
});

describe("listing and pagination", () => {
  const base = 1_700_000_000;

  function seed250(): string[] {
    // 250 charges inside [base, base + 2490] (some sharing a second) plus some outside it.
    const inside = sandbox.seedCharges(
      Array.from({ length: 250 }, (_, i) => ({
        amount: 2200,
        currency: "aud",
        created: base + Math.floor(i / 2) * 20,
      })),
    );
    sandbox.seedCharges([
      { amount: 5000, currency: "aud", created: base - 1 },
      { amount: 5000, currency: "aud", created: base + 100_000 },
    ]);
    return inside.map((c) => c.id);
  }

  it("auto-paginates a created range: every charge exactly once, newest first", async () => {
    const ids = seed250();
    const seen: Stripe.Charge[] = [];
    for await (const charge of stripe.charges.list({
      limit: 100,
      created: { gte: base, lte: base + 2480 },
    })) {
      seen.push(charge);
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen.map((c) => c.id))).toEqual(new Set(ids));
    for (let i = 1; i < seen.length; i += 1) {
      const prev = seen[i - 1];
      const cur = seen[i];
      if (!prev || !cur) throw new Error("unreachable");
      expect(prev.created > cur.created || (prev.created === cur.created && prev.id > cur.id)).toBe(true);
    }
    // 3 pages: 100, 100, 50.
    expect(sandbox.requests().filter((r) => r.path === "/v1/charges")).toHaveLength(3);
  });

  it("sets has_more per page and honours starting_after / ending_before / gt / lt", async () => {
    seed250();
    const range = { gte: base, lte: base + 2480 };
    const first = await stripe.charges.list({ limit: 100, created: range });
    expect(first).toMatchObject({
      object: "list",
      has_more: true,
      url: "/v1/charges",
    });
    const second = await stripe.charges.list({
      limit: 100,
      created: range,
      starting_after: first.data.at(-1)?.id ?? "",
    });
    expect(second.has_more).toBe(true);
    const third = await stripe.charges.list({
      limit: 100,
      created: range,
      starting_after: second.data.at(-1)?.id ?? "",
    });
    expect(third.data).toHaveLength(50);
    expect(third.has_more).toBe(false);

    // ending_before returns the page just newer than the cursor, still newest first.
    const back = await stripe.charges.list({
      limit: 100,
      created: range,
      ending_before: third.data[0]?.id ?? "",
    });
    expect(back.data.map((c) => c.id)).toEqual(second.data.map((c) => c.id));
    expect(back.has_more).toBe(true);

    const exact = await stripe.charges.list({
      limit: 100,
      created: { gt: base, lt: base + 40 },
    });
    expect(exact.data.map((c) => c.created)).toEqual([base + 20, base + 20]);
    const all = await stripe.charges.list({ limit: 100 });
    expect(all.data[0]?.created).toBe(base + 100_000);

    await expect(stripe.charges.list({ starting_after: "ch_unknown" })).rejects.toMatchObject({
      code: "resource_missing",
      param: "starting_after",
    });
  });

  it("defaults to 10 per page", async () => {
    seed250();
    const page = await stripe.charges.list();
    expect(page.data).toHaveLength(10);
    expect(page.has_more).toBe(true);
  });

  it("seeds 100k charges over HTTP and lists a deep range quickly", async () => {
    const from = 1_690_000_000;
    const started = Date.now();
    const seeded = await control(sandbox, "POST", "/_sandbox/charges", {
      generate: {
        count: 100_000,
        createdFrom: from,
        createdTo: from + 7 * 86_400,
        amount: 2200,
        currency: "aud",
      },
      returnIds: false,
    });
    expect(seeded.status).toBe(200);
    expect(seeded.json).toMatchObject({ count: 100_000, total: 100_000 });
    const seedMs = Date.now() - started;

    // Walk one day in the middle of the week completely.
    const dayStart = from + 3 * 86_400;
    const dayEnd = dayStart + 86_399;
    const walkStarted = Date.now();
    let count = 0;
    let last = Number.POSITIVE_INFINITY;
    for await (const charge of stripe.charges.list({
      limit: 100,
      created: { gte: dayStart, lte: dayEnd },
    })) {
      expect(charge.created).toBeLessThanOrEqual(last);
      last = charge.created;
      count += 1;
    }
    const expected = sandbox.state.charges.values().filter((c) => c.created >= dayStart && c.created <= dayEnd).length;
    expect(count).toBe(expected);
    expect(count).toBeGreaterThan(14_000);
    const walkMs = Date.now() - walkStarted;
    expect(seedMs).toBeLessThan(10_000);
    expect(walkMs).toBeLessThan(20_000);
  }, 60_000);
});
