// Prices are checked: each region has a placement price set by an ADMIN; a charge that does not
// pay it is recorded but held for review (no placement), alerted, and an operator accepts it
// (placement bought) or refunds it through the ordinary refund path (exactly once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBusiness, createRegion, globalId, type PaymentsStack, startPaymentsStack } from "./payments-stack.ts";
import { TEST_PASSWORD } from "../support/fixtures.ts";

let stack: PaymentsStack;
let adminCookie: string;
let regionId: string;

const SET_PRICE = `mutation ($regionId: ID!, $priceCents: Int!, $currency: String!) {
  setRegionPrice(regionId: $regionId, priceCents: $priceCents, currency: $currency) {
    __typename
    ... on MutationSetRegionPriceSuccess { data { placementPriceCents placementCurrency } }
    ... on Error { message }
  }
}`;
const ACCEPT = `mutation ($paymentId: ID!) {
  acceptHeldPayment(paymentId: $paymentId, note: "Old price honoured") {
    __typename
    ... on MutationAcceptHeldPaymentSuccess { data { holdResolution placement { status } } }
    ... on Error { message }
  }
}`;
const REFUND = `mutation ($paymentId: ID!) {
  refundHeldPayment(paymentId: $paymentId, reason: "Paid the wrong amount") {
    __typename
    ... on MutationRefundHeldPaymentSuccess { data { status } }
    ... on Error { message }
  }
}`;

async function chargeAndWait(business: { id: string }, amount: number, currency: string) {
  // Made on Stripe's side as the marketplace's checkout would (the sandbox's API refuses < 50 units).
  const charge = stack.stripeSandbox.createCharge({ amount, currency, metadata: { business_id: business.id } });
  await stack.stripeSandbox.waitForWebhooks();
  await expect
    .poll(async () => (await stack.db.stripeWebhookEvent.findFirst({ where: { objectId: charge.id } }))?.status, {
      timeout: 20_000,
    })
    .toBe("PROCESSED");
  return stack.db.payment.findUniqueOrThrow({ where: { stripeChargeId: charge.id }, include: { placement: true } });
}

beforeAll(async () => {
  stack = await startPaymentsStack({ worker: true, webhooks: true });
  adminCookie = await stack.api.loginCookie("admin@test.example", TEST_PASSWORD);
  regionId = (await createRegion(stack.db, 5)).id;
});
afterAll(async () => {
  await stack?.stop();
});

describe("region prices", () => {
  it("are set by an ADMIN (audited), not by an operator, and must be a positive amount and an ISO currency", async () => {
    const set = await stack.api.graphql<{ setRegionPrice: { __typename: string; data: unknown } }>(
      SET_PRICE,
      { regionId, priceCents: 4900, currency: "AUD" },
      { cookie: adminCookie },
    );
    expect(set.data?.setRegionPrice).toMatchObject({
      __typename: "MutationSetRegionPriceSuccess",
      data: { placementPriceCents: 4900, placementCurrency: "aud" },
    });
    const audit = await stack.db.auditEvent.findFirstOrThrow({
      where: { action: "region.setPrice", targetId: regionId },
    });
    expect(audit.after).toEqual({ placementPriceCents: 4900, placementCurrency: "aud" });

    const operator = await stack.api.graphql(
      SET_PRICE,
      { regionId, priceCents: 1, currency: "jpy" },
      {
        cookie: stack.operatorCookie,
      },
    );
    expect(operator.errors?.[0]?.message).toBeTruthy();
    for (const bad of [
      { priceCents: 0, currency: "aud" },
      { priceCents: 100, currency: "dollars" },
    ]) {
      const refused = await stack.api.graphql<{ setRegionPrice: { __typename: string } }>(
        SET_PRICE,
        { regionId, ...bad },
        { cookie: adminCookie },
      );
      expect(refused.data?.setRegionPrice.__typename).toMatch(/^(ValidationError|InvalidInputError)$/);
    }
    expect(await stack.db.region.findUniqueOrThrow({ where: { id: regionId } })).toMatchObject({
      placementPriceCents: 4900,
      placementCurrency: "aud",
    });
  });
});

describe("a charge that does not pay the region's price", () => {
  it("1 JPY with placement metadata no longer buys an active 30-day placement: recorded, held, alerted", async () => {
    const business = await createBusiness(stack.db, regionId);
    const payment = await chargeAndWait(business, 1, "jpy");
    expect(payment).toMatchObject({
      status: "SUCCEEDED",
      amountCents: 1,
      currency: "jpy",
      holdReason: "PRICE_MISMATCH",
      holdResolution: null,
      placement: null,
    });
    expect(payment.holdDetail).toMatch(/a placement in .* costs/);
    expect(await stack.db.placement.count({ where: { businessId: business.id } })).toBe(0);
    await expect
      .poll(
        async () =>
          (await stack.db.alert.findUnique({ where: { fingerprint: `charge-held:${payment.stripeChargeId}` } }))
            ?.status,
        {
          timeout: 10_000,
        },
      )
      .toBe("FIRING");
    const held = await stack.api.graphql<{ heldPayments: { id: string; holdReason: string }[] }>(
      `query { heldPayments { id holdReason holdDetail } }`,
      {},
      { cookie: stack.viewerCookie },
    );
    expect(held.data?.heldPayments).toContainEqual(
      expect.objectContaining({ id: globalId("Payment", payment.id), holdReason: "PRICE_MISMATCH" }),
    );
  });

  it("the right amount in the wrong currency is held too; the right price buys the placement", async () => {
    const wrongCurrency = await chargeAndWait(await createBusiness(stack.db, regionId), 4900, "usd");
    expect(wrongCurrency).toMatchObject({ holdReason: "PRICE_MISMATCH", placement: null });
    const priced = await chargeAndWait(await createBusiness(stack.db, regionId), 4900, "aud");
    expect(priced).toMatchObject({ holdReason: null, placement: { status: "ACTIVE" } });
  });

  it("an operator accepts it: the placement is bought, the alert resolves, a second decision is refused", async () => {
    const payment = await chargeAndWait(await createBusiness(stack.db, regionId), 2200, "aud");
    expect(payment.holdReason).toBe("PRICE_MISMATCH");
    const accepted = await stack.api.graphql<{ acceptHeldPayment: Record<string, unknown> }>(
      ACCEPT,
      { paymentId: globalId("Payment", payment.id) },
      { cookie: stack.operatorCookie },
    );
    expect(accepted.data?.acceptHeldPayment).toMatchObject({
      __typename: "MutationAcceptHeldPaymentSuccess",
      data: { holdResolution: "ACCEPTED", placement: { status: "ACTIVE" } },
    });
    const again = await stack.api.graphql<{ refundHeldPayment: { __typename: string } }>(
      REFUND,
      { paymentId: globalId("Payment", payment.id) },
      { cookie: stack.secondOperatorCookie },
    );
    expect(again.data).toMatchObject({ refundHeldPayment: { __typename: "ConflictError" } });
    expect(stack.stripeSandbox.state.refunds.size).toBe(0);
    expect(
      (await stack.db.alert.findUniqueOrThrow({ where: { fingerprint: `charge-held:${payment.stripeChargeId}` } }))
        .status,
    ).toBe("RESOLVED");
    const audit = await stack.db.auditEvent.findFirstOrThrow({
      where: { action: "payment.hold_accepted", targetId: payment.id },
    });
    expect(audit.reason).toBe("Old price honoured");
  });

  it("an operator refunds it through the refund path: one Stripe refund, payment refunded, no placement", async () => {
    const payment = await chargeAndWait(await createBusiness(stack.db, regionId), 100, "aud");
    const refunded = await stack.api.graphql<{ refundHeldPayment: Record<string, unknown> }>(
      REFUND,
      { paymentId: globalId("Payment", payment.id) },
      { cookie: stack.operatorCookie },
    );
    // Claimed at once; the refund-execute job refunds it at Stripe.
    expect(refunded.data?.refundHeldPayment).toMatchObject({
      __typename: "MutationRefundHeldPaymentSuccess",
      data: { status: "PROCESSING" },
    });
    await expect
      .poll(async () => stack.db.refundRequest.count({ where: { paymentId: payment.id, status: "APPROVED" } }), {
        timeout: 20_000,
      })
      .toBe(1);
    const again = await stack.api.graphql<{ refundHeldPayment: { __typename: string } }>(
      REFUND,
      { paymentId: globalId("Payment", payment.id) },
      { cookie: stack.secondOperatorCookie },
    );
    expect(again.data?.refundHeldPayment.__typename).toBe("ConflictError");
    const refunds = [...stack.stripeSandbox.state.refunds.values()].filter(
      (refund) => refund.charge === payment.stripeChargeId,
    );
    expect(refunds).toHaveLength(1);
    expect(
      await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id }, include: { placement: true } }),
    ).toMatchObject({
      status: "REFUNDED",
      holdResolution: "REFUNDED",
      placement: null,
    });
    expect(await stack.db.refundRequest.count({ where: { paymentId: payment.id, status: "APPROVED" } })).toBe(1);
  });

  it("two operators deciding at once: one accepts or one refunds, never both (no placement started, then refunded)", async () => {
    for (let round = 0; round < 4; round++) {
      const payment = await chargeAndWait(await createBusiness(stack.db, regionId), 300 + round, "aud");
      const paymentId = globalId("Payment", payment.id);
      const [accepted, refunded] = await Promise.all([
        stack.api.graphql<{ acceptHeldPayment: { __typename: string } }>(
          ACCEPT,
          { paymentId },
          { cookie: stack.operatorCookie },
        ),
        stack.api.graphql<{ refundHeldPayment: { __typename: string } }>(
          REFUND,
          { paymentId },
          { cookie: stack.secondOperatorCookie },
        ),
      ]);
      const outcomes = [accepted.data?.acceptHeldPayment.__typename, refunded.data?.refundHeldPayment.__typename];
      expect(outcomes.filter((name) => name?.endsWith("Success"))).toHaveLength(1);
      expect(outcomes.filter((name) => name === "ConflictError")).toHaveLength(1);
      const requests = await stack.db.refundRequest.count({ where: { paymentId: payment.id } });
      const decided = await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id } });
      if (outcomes[0]?.endsWith("Success")) {
        expect(requests).toBe(0);
        expect(decided.holdResolution).toBe("ACCEPTED");
      } else {
        expect(requests).toBe(1);
        expect(decided.holdResolution).toBe("REFUNDED");
        expect(
          await stack.db.auditEvent.count({ where: { action: "payment.hold_accepted", targetId: payment.id } }),
        ).toBe(0);
      }
    }
  });

  it("a viewer may see held payments but not decide them", async () => {
    const payment = await chargeAndWait(await createBusiness(stack.db, regionId), 5, "aud");
    const refused = await stack.api.graphql(
      ACCEPT,
      { paymentId: globalId("Payment", payment.id) },
      { cookie: stack.viewerCookie },
    );
    expect(refused.errors?.[0]?.message).toBeTruthy();
    expect((await stack.db.payment.findUniqueOrThrow({ where: { id: payment.id } })).holdResolution).toBeNull();
  });
});
