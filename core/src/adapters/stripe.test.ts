// The Stripe adapter classifies SDK errors once, into the port's error: what core retries with
// the same idempotency key (transient) and what it reports as Stripe's refusal (permanent).
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  isPermanentPaymentsError,
  isTransientPaymentsError,
  PaymentsGatewayError,
  paymentsErrorCode,
} from "../ports/payments.ts";
import { stripeGateway, translated } from "./stripe.ts";

const sdkError = (raw: Parameters<typeof Stripe.errors.StripeError.generate>[0]) =>
  Stripe.errors.StripeError.generate(raw);

describe("the Stripe adapter's errors", () => {
  it("network failures, rate limits, 5xx and an idempotency key still in flight (409) are transient", () => {
    for (const error of [
      new Stripe.errors.StripeConnectionError({ message: "connect ECONNREFUSED" }),
      sdkError({ type: "rate_limit_error", message: "slow down", statusCode: 429 }),
      sdkError({ type: "api_error", message: "boom", statusCode: 500 }),
      sdkError({ type: "invalid_request_error", message: "in flight", statusCode: 409 }),
    ]) {
      const gatewayError = translated(error);
      expect(gatewayError).toBeInstanceOf(PaymentsGatewayError);
      expect(isTransientPaymentsError(gatewayError)).toBe(true);
      expect((gatewayError as PaymentsGatewayError).message).toBe(error.message);
    }
  });

  it("a refusal is permanent and keeps Stripe's code", () => {
    const refused = translated(
      sdkError({ type: "invalid_request_error", message: "No such charge", code: "resource_missing", statusCode: 404 }),
    );
    expect(isPermanentPaymentsError(refused)).toBe(true);
    expect(paymentsErrorCode(refused)).toBe("resource_missing");
  });

  it("leaves errors that are not Stripe's unchanged (neither transient nor permanent)", () => {
    const ours = new Error("process killed");
    expect(translated(ours)).toBe(ours);
    expect(isTransientPaymentsError(ours)).toBe(false);
    expect(isPermanentPaymentsError(ours)).toBe(false);
  });

  it("rejects a call that cannot reach Stripe with a transient gateway error", async () => {
    const unreachable = stripeGateway(
      new Stripe("sk_test_unit", { host: "127.0.0.1", port: 1, protocol: "http", maxNetworkRetries: 0, timeout: 1000 }),
    );
    const failure = await unreachable.charges.retrieve("ch_1").catch((error: unknown) => error);
    expect(isTransientPaymentsError(failure)).toBe(true);
    const listing = await (async () => {
      for await (const charge of unreachable.charges.iterate({ limit: 1 })) return charge;
      return null;
    })().catch((error: unknown) => error);
    expect(isTransientPaymentsError(listing)).toBe(true);
  });
});
