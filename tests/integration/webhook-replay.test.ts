// Replaying stored Stripe webhook events from the dashboard: the real API re-fetches each event
// from the Stripe sandbox with the real SDK and re-processes it. Only operators may; bad input is a
// typed error that changes nothing; 30 concurrent replays of one event move money once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBusiness, createRegion, globalId, type PaymentsStack, startPaymentsStack } from "./payments-stack.ts";

let stack: PaymentsStack;
let regionId: string;

const REPLAY = /* GraphQL */ `
  mutation Replay($ids: [ID!]!) {
    replayWebhookEvents(ids: $ids) {
      __typename
      ... on Error {
        message
      }
      ... on MutationReplayWebhookEventsSuccess {
        data {
          eventId
          outcome
          summary
          status
          event {
            status
            attempts
          }
        }
      }
    }
  }
`;

interface ReplayAnswer {
  replayWebhookEvents: {
    __typename: string;
    message?: string;
    data?: { eventId: string; outcome: string; summary: string; status: string }[];
  };
}

const eventGid = (eventId: string) => globalId("StripeWebhookEvent", eventId);

/** A placement charge whose events are stored (delivered to the API) but not processed (no worker). */
async function storedCharge(): Promise<{ chargeId: string; eventId: string }> {
  const business = await createBusiness(stack.db, regionId);
  const charge = await stack.stripe.charges.create({
    amount: 2200,
    currency: "aud",
    source: "tok_visa",
    metadata: { business_id: business.id },
  });
  await stack.stripeSandbox.waitForWebhooks();
  const event = await stack.db.stripeWebhookEvent.findFirstOrThrow({ where: { objectId: charge.id } });
  return { chargeId: charge.id, eventId: event.id };
}

function replay(ids: string[], cookie = stack.operatorCookie) {
  return stack.api.graphql<ReplayAnswer>(REPLAY, { ids }, { cookie });
}

beforeAll(async () => {
  stack = await startPaymentsStack({ webhooks: true });
  regionId = (await createRegion(stack.db, 100)).id;
});
afterAll(async () => {
  await stack?.stop();
});

describe("replayWebhookEvents", () => {
  it("re-fetches and processes an event, audited", async () => {
    const { chargeId, eventId } = await storedCharge();
    expect((await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: eventId } })).status).toBe("RECEIVED");

    const answer = await replay([eventGid(eventId)]);
    expect(answer.data?.replayWebhookEvents.data).toEqual([
      expect.objectContaining({ eventId, outcome: "REPROCESSED", status: "PROCESSED" }),
    ]);
    const payment = await stack.db.payment.findUniqueOrThrow({
      where: { stripeChargeId: chargeId },
      include: { placement: true },
    });
    expect(payment.status).toBe("SUCCEEDED");
    expect(payment.placement?.status).toBe("ACTIVE");
    expect(await stack.db.auditEvent.count({ where: { action: "stripe.webhook_replayed", targetId: eventId } })).toBe(
      1,
    );

    // Replaying a processed event again re-fetches it and finds nothing left to do.
    const again = await replay([eventGid(eventId)]);
    expect(again.data?.replayWebhookEvents.data?.[0]).toMatchObject({ outcome: "REPROCESSED", status: "PROCESSED" });
    expect(again.data?.replayWebhookEvents.data?.[0]?.summary).toContain("already up to date");
    expect(await stack.db.payment.count({ where: { stripeChargeId: chargeId } })).toBe(1);
  });

  it("30 replays of one event at once record one payment and one placement", async () => {
    const { chargeId, eventId } = await storedCharge();
    const answers = await Promise.all(Array.from({ length: 30 }, () => replay([eventGid(eventId)])));
    const outcomes = answers.map((answer) => answer.data?.replayWebhookEvents.data?.[0]?.outcome);
    expect(outcomes.every((outcome) => outcome === "REPROCESSED" || outcome === "ALREADY_REPLAYING")).toBe(true);
    expect(outcomes).toContain("REPROCESSED");

    const payments = await stack.db.payment.findMany({ where: { stripeChargeId: chargeId } });
    expect(payments).toHaveLength(1);
    expect(await stack.db.placement.count({ where: { paymentId: payments[0]!.id } })).toBe(1);
    expect(await stack.db.auditEvent.count({ where: { action: "payment.recorded", targetId: payments[0]!.id } })).toBe(
      1,
    );
    const event = await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: eventId } });
    expect(event).toMatchObject({ status: "PROCESSED", replayStartedAt: null });
  });

  it("a viewer may not replay, and nothing changes", async () => {
    const { eventId } = await storedCharge();
    const answer = await replay([eventGid(eventId)], stack.viewerCookie);
    expect(answer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: eventId } })).toMatchObject({
      status: "RECEIVED",
      attempts: 0,
    });
  });

  it("refuses bad input with a typed error and touches none of the events", async () => {
    const { eventId } = await storedCharge();
    const untouched = async () =>
      expect(await stack.db.stripeWebhookEvent.findUniqueOrThrow({ where: { id: eventId } })).toMatchObject({
        status: "RECEIVED",
        attempts: 0,
      });

    const empty = await replay([]);
    expect(empty.data?.replayWebhookEvents.__typename).toBe("ValidationError");

    const tooMany = await replay(Array.from({ length: 51 }, (_, index) => eventGid(`evt_${index}`)));
    expect(tooMany.data?.replayWebhookEvents.__typename).toBe("ValidationError");

    const unknown = await replay([eventGid(eventId), eventGid("evt_never_received")]);
    expect(unknown.data?.replayWebhookEvents.__typename).toBe("NotFoundError");
    await untouched();

    // Stored here but unknown to Stripe (not a real delivery): refused before anything is processed.
    await stack.db.stripeWebhookEvent.create({
      data: { id: "evt_not_at_stripe", type: "charge.succeeded", objectId: "ch_nowhere", payload: {} },
    });
    const forged = await replay([eventGid(eventId), eventGid("evt_not_at_stripe")]);
    expect(forged.data?.replayWebhookEvents.__typename).toBe("WebhookEventNotAtStripeError");
    expect(forged.data?.replayWebhookEvents.message).toContain("evt_not_at_stripe");
    await untouched();
    expect(await stack.db.auditEvent.count({ where: { action: "stripe.webhook_replayed", targetId: eventId } })).toBe(
      0,
    );
  });

  it("lists a charge's events (the link from a discrepancy or an alert)", async () => {
    const { chargeId, eventId } = await storedCharge();
    await storedCharge();
    const answer = await stack.api.graphql<{
      webhookEvents: { edges: { node: { eventId: string; chargeId: string | null } }[] };
    }>(
      `query ($chargeId: String) { webhookEvents(first: 50, filter: { chargeId: $chargeId }) { edges { node { eventId chargeId } } } }`,
      { chargeId },
      { cookie: stack.viewerCookie },
    );
    const nodes = answer.data?.webhookEvents.edges.map((edge) => edge.node) ?? [];
    expect(nodes.map((node) => node.eventId)).toContain(eventId);
    expect(nodes.every((node) => node.chargeId === chargeId)).toBe(true);
  });
});
