// Webhook signatures as the SDK checks them (built with the SDK's own test header helper), and
// how a Stripe charge maps to our payment status.
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeGateway } from "./adapters/stripe.ts";
import { paymentReflects, paymentStatusOf, verifyStripeWebhook } from "./payments.ts";

const client = new Stripe("sk_test_unit", { host: "127.0.0.1", port: 9, protocol: "http" });
const stripe = stripeGateway(client);
const secret = "whsec_unit_test";
const payload = JSON.stringify({
  id: "evt_1",
  object: "event",
  type: "charge.succeeded",
  data: { object: { id: "ch_1" } },
});
const now = () => Math.floor(Date.now() / 1000);
const header = (options: { timestamp?: number; secret?: string; body?: string } = {}) =>
  client.webhooks.generateTestHeaderString({
    payload: options.body ?? payload,
    secret: options.secret ?? secret,
    timestamp: options.timestamp ?? now(),
  });

describe("verifyStripeWebhook", () => {
  it("accepts a correctly signed, fresh event", () => {
    expect(verifyStripeWebhook(stripe, Buffer.from(payload), header(), secret).id).toBe("evt_1");
  });

  it("accepts an event signed 4 minutes ago but not 6 minutes ago (5-minute tolerance)", () => {
    expect(verifyStripeWebhook(stripe, payload, header({ timestamp: now() - 240 }), secret).id).toBe("evt_1");
    expect(() => verifyStripeWebhook(stripe, payload, header({ timestamp: now() - 360 }), secret)).toThrow(
      /Timestamp outside the tolerance zone/,
    );
  });

  it("rejects a forged signature, a tampered body and a missing header", () => {
    expect(() => verifyStripeWebhook(stripe, payload, header({ secret: "whsec_attacker" }), secret)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => verifyStripeWebhook(stripe, payload.replace("ch_1", "ch_2"), header(), secret)).toThrow(
      /No signatures found matching the expected signature/,
    );
    expect(() => verifyStripeWebhook(stripe, payload, null, secret)).toThrow("No Stripe-Signature header");
  });
});

describe("paymentStatusOf", () => {
  it.each([
    [{ status: "succeeded", refunded: false, amount_refunded: 0 }, "SUCCEEDED"],
    [{ status: "succeeded", refunded: false, amount_refunded: 500 }, "PARTIALLY_REFUNDED"],
    [{ status: "succeeded", refunded: true, amount_refunded: 2200 }, "REFUNDED"],
    [{ status: "failed", refunded: false, amount_refunded: 0 }, "FAILED"],
    [{ status: "pending", refunded: false, amount_refunded: 0 }, "PENDING"],
  ] as const)("maps %o to %s", (charge, expected) => {
    expect(paymentStatusOf(charge)).toBe(expected);
  });
});

describe("paymentReflects", () => {
  it("is true when our payment already says at least what Stripe's snapshot says", () => {
    expect(
      paymentReflects({ status: "REFUNDED", refundedCents: 2200 }, { status: "SUCCEEDED", refundedCents: 0 }),
    ).toBe(true);
    expect(
      paymentReflects({ status: "REFUNDED", refundedCents: 2200 }, { status: "REFUNDED", refundedCents: 2200 }),
    ).toBe(true);
  });

  it("is false when the snapshot is ahead: a higher rank, or more refunded at the same rank", () => {
    expect(
      paymentReflects({ status: "SUCCEEDED", refundedCents: 0 }, { status: "REFUNDED", refundedCents: 2200 }),
    ).toBe(false);
    expect(
      paymentReflects(
        { status: "PARTIALLY_REFUNDED", refundedCents: 500 },
        { status: "PARTIALLY_REFUNDED", refundedCents: 1000 },
      ),
    ).toBe(false);
  });
});
