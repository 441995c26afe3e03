import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StripeSandbox } from "../../src/stripe/server.ts";
import { sdk, startSandbox } from "./helpers.ts";

let sandbox: StripeSandbox;
let stripe: Stripe;

beforeAll(async () => {
  sandbox = await startSandbox();
  stripe = sdk(sandbox);
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

const newCharge = (amount = 2200): Promise<Stripe.Charge> =>
  stripe.charges.create({
    amount,
    currency: "aud",
    metadata: { payment_id: "pay_1" },
  });

describe("refunds", () => {
  it("refunds in full, then refuses a second refund with charge_already_refunded", async () => {
    const charge = await newCharge();
    const refund = await stripe.refunds.create({
      charge: charge.id,
      reason: "requested_by_customer",
      metadata: { request_id: "rr_1" },
    });
    expect(refund).toMatchObject({
      object: "refund",
      amount: 2200,
      charge: charge.id,
      currency: "aud",
      status: "succeeded",
      reason: "requested_by_customer",
      metadata: { request_id: "rr_1" },
    });
    expect(refund.id).toMatch(/^re_/);
    expect(await stripe.charges.retrieve(charge.id)).toMatchObject({
      amount_refunded: 2200,
      refunded: true,
    });
    expect(await stripe.refunds.retrieve(refund.id)).toEqual(refund);

    const error = await stripe.refunds.create({ charge: charge.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      code: "charge_already_refunded",
      statusCode: 400,
    });
  });

  it("supports partial refunds and refuses more than remains", async () => {
    const charge = await newCharge(2200);
    await stripe.refunds.create({ charge: charge.id, amount: 500 });
    await stripe.refunds.create({ charge: charge.id, amount: 700 });
    expect(await stripe.charges.retrieve(charge.id)).toMatchObject({
      amount_refunded: 1200,
      refunded: false,
    });

    await expect(stripe.refunds.create({ charge: charge.id, amount: 1001 })).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      code: "amount_too_large",
      param: "amount",
    });
    const rest = await stripe.refunds.create({ charge: charge.id });
    expect(rest.amount).toBe(1000);
    expect(await stripe.charges.retrieve(charge.id)).toMatchObject({
      amount_refunded: 2200,
      refunded: true,
    });

    const refunds = await stripe.refunds.list({ charge: charge.id });
    expect(refunds.data.map((r) => r.amount)).toEqual([1000, 700, 500]);
    const other = await newCharge();
    await stripe.refunds.create({ charge: other.id, amount: 100 });
    expect((await stripe.refunds.list({ charge: charge.id })).data).toHaveLength(3);
    expect((await stripe.refunds.list()).data).toHaveLength(4);
  });

  it("refuses unknown and failed charges", async () => {
    await expect(stripe.refunds.create({ charge: "ch_missing" })).rejects.toMatchObject({
      code: "resource_missing",
      param: "charge",
    });
    const declined = await stripe.charges
      .create({ amount: 2200, currency: "aud", source: "tok_chargeDeclined" })
      .catch((e: unknown) => e);
    const failedId = (declined as Stripe.errors.StripeCardError).charge ?? "";
    await expect(stripe.refunds.create({ charge: failedId })).rejects.toMatchObject({ code: "charge_not_refundable" });
  });

  it("records charge.refunded and refund.created events with snapshots", async () => {
    const charge = await newCharge();
    const refund = await stripe.refunds.create({ charge: charge.id, amount: 200 }, { idempotencyKey: "refund-evt-1" });
    const events = await stripe.events.list({ limit: 10 });
    expect(events.data.map((e) => e.type)).toEqual(["refund.created", "charge.refunded", "charge.succeeded"]);
    const refunded = events.data.find((e) => e.type === "charge.refunded");
    expect(refunded?.data.object).toMatchObject({
      id: charge.id,
      amount_refunded: 200,
    });
    expect(refunded?.data.previous_attributes).toEqual({
      amount_refunded: 0,
      refunded: false,
    });
    expect(refunded?.request).toMatchObject({
      idempotency_key: "refund-evt-1",
    });
    // The charge.succeeded snapshot is not rewritten by the later refund.
    expect(events.data[2]?.data.object).toMatchObject({ amount_refunded: 0 });

    const onlyRefunds = await stripe.events.list({ type: "refund.created" });
    expect(onlyRefunds.data).toHaveLength(1);
    expect(onlyRefunds.data[0]?.data.object).toMatchObject({ id: refund.id });
    const chargeEvents = await stripe.events.list({ type: "charge.*" });
    expect(chargeEvents.data).toHaveLength(2);
    const one = await stripe.events.retrieve(onlyRefunds.data[0]?.id ?? "");
    expect(one.id).toBe(onlyRefunds.data[0]?.id);
    await expect(stripe.events.retrieve("evt_missing")).rejects.toMatchObject({
      code: "resource_missing",
    });
  });
});

describe("idempotency", () => {
  it("replays the same refund for the same key and parameters", async () => {
    const charge = await newCharge();
    const key = `refund-${charge.id}`;
    const first = await stripe.refunds.create({ charge: charge.id }, { idempotencyKey: key });
    const again = await stripe.refunds.create({ charge: charge.id }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(again).toEqual(first);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect((await stripe.refunds.list({ charge: charge.id })).data).toHaveLength(1);
    expect(sandbox.state.refunds.size).toBe(1);
    // Only one set of events too.
    expect((await stripe.events.list({ type: "refund.created" })).data).toHaveLength(1);
  });

  it("replays errors too: a retried over-refund still answers the same error", async () => {
    const charge = await newCharge();
    await stripe.refunds.create({ charge: charge.id });
    const key = "second-refund";
    const e1 = await stripe.refunds.create({ charge: charge.id }, { idempotencyKey: key }).catch((e: unknown) => e);
    const e2 = await stripe.refunds.create({ charge: charge.id }, { idempotencyKey: key }).catch((e: unknown) => e);
    expect(e1).toMatchObject({ code: "charge_already_refunded" });
    expect(e2).toMatchObject({ code: "charge_already_refunded" });
    expect((e2 as Stripe.errors.StripeError).headers?.["idempotent-replayed"]).toBe("true");
  });

  it("refuses the same key with different parameters", async () => {
    const charge = await newCharge();
    await stripe.refunds.create({ charge: charge.id, amount: 100 }, { idempotencyKey: "k-1" });
    const error = await stripe.refunds
      .create({ charge: charge.id, amount: 200 }, { idempotencyKey: "k-1" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({
      statusCode: 400,
      rawType: "idempotency_error",
    });
    // ...and on a different endpoint.
    await expect(
      stripe.charges.create({ amount: 100, currency: "aud" }, { idempotencyKey: "k-1" }),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(sandbox.state.refunds.size).toBe(1);
  });

  it("does not remember validation errors, so a corrected retry with the same key works", async () => {
    const charge = await newCharge();
    await expect(
      stripe.refunds.create(
        {
          charge: charge.id,
          reason: "because" as Stripe.RefundCreateParams.Reason,
        },
        { idempotencyKey: "k-2" },
      ),
    ).rejects.toMatchObject({ param: "reason" });
    // Same key, different (now valid) parameters: accepted because nothing was saved.
    const refund = await stripe.refunds.create({ charge: charge.id, reason: "duplicate" }, { idempotencyKey: "k-2" });
    expect(refund.reason).toBe("duplicate");
  });

  it('metadata key order does not matter for "same parameters"', async () => {
    const charge = await newCharge();
    const a = await stripe.refunds.create(
      { charge: charge.id, amount: 100, metadata: { a: "1", b: "2" } },
      { idempotencyKey: "k-3" },
    );
    const b = await stripe.refunds.create(
      { metadata: { b: "2", a: "1" }, amount: 100, charge: charge.id },
      { idempotencyKey: "k-3" },
    );
    expect(b.id).toBe(a.id);
  });
});
