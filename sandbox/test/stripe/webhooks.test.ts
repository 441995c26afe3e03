import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StripeSandbox } from "../../src/stripe/server.ts";
import { signatureHeader } from "../../src/stripe/webhooks.ts";
import { control, sdk, startReceiver, startSandbox } from "./helpers.ts";
import type { WebhookReceiver } from "./helpers.ts";

const SECRET = "whsec_test_secret";
let sandbox: StripeSandbox;
let stripe: Stripe;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startReceiver();
  sandbox = await startSandbox({
    webhookUrl: receiver.url,
    webhookSecret: SECRET,
    webhookRetry: { baseDelayMs: 50, maxAttempts: 4, timeoutMs: 2_000 },
  });
  stripe = sdk(sandbox);
});
afterAll(async () => {
  await sandbox.stop();
  await receiver.close();
});
beforeEach(() => {
  sandbox.reset();
  receiver.received.length = 0;
  receiver.script.length = 0;
});
afterEach(() => sandbox.configureWebhooks({ url: receiver.url }));

describe("webhook delivery", () => {
  it("signs events so that stripe.webhooks.constructEvent verifies them", async () => {
    const charge = await stripe.charges.create({
      amount: 2200,
      currency: "aud",
      metadata: { business_id: "b1" },
    });
    await sandbox.waitForWebhooks();
    expect(receiver.received).toHaveLength(1);
    const delivery = receiver.received[0];
    if (!delivery) throw new Error("no delivery");
    expect(delivery.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, SECRET);
    expect(event.type).toBe("charge.succeeded");
    expect(event.object).toBe("event");
    expect(event.data.object).toMatchObject({
      id: charge.id,
      metadata: { business_id: "b1" },
    });
    expect(event.pending_webhooks).toBe(1);
    // The payload is a hint: the event can be re-fetched by id.
    expect((await stripe.events.retrieve(event.id)).id).toBe(event.id);

    // A wrong secret or a tampered payload fails verification.
    expect(() => stripe.webhooks.constructEvent(delivery.body, delivery.signature, "whsec_other")).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() =>
      stripe.webhooks.constructEvent(delivery.body.replace("2200", "2300"), delivery.signature, SECRET),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });

  it("matches the SDK own test header generator", () => {
    const payload = '{"id":"evt_1"}';
    const timestamp = 1_700_000_000;
    expect(signatureHeader(payload, SECRET, timestamp)).toBe(
      stripe.webhooks.generateTestHeaderString({
        payload,
        secret: SECRET,
        timestamp,
      }),
    );
  });

  it("retries after the receiver answers 500, then stops on 200", async () => {
    receiver.script.push(500, 503);
    await stripe.charges.create({ amount: 2200, currency: "aud" });
    await sandbox.waitForWebhooks();
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.eventId)).size).toBe(1);
    for (const r of receiver.received)
      expect(() => stripe.webhooks.constructEvent(r.body, r.signature, SECRET)).not.toThrow();
    const attempts = sandbox.webhooks.deliveries().map((d) => [d.attempt, d.outcome, d.status]);
    expect(attempts).toEqual([
      [1, "failed", 500],
      [2, "failed", 503],
      [3, "delivered", 200],
    ]);
  });

  it("retries while the receiver is down and gives up after maxAttempts", async () => {
    const down = await startReceiver();
    const downUrl = down.url;
    await down.close();
    sandbox.configureWebhooks({ url: downUrl });
    await stripe.charges.create({ amount: 2200, currency: "aud" });
    await sandbox.waitForWebhooks();
    const records = sandbox.webhooks.deliveries();
    expect(records).toHaveLength(4);
    expect(records.every((d) => d.outcome === "failed" && d.status === null)).toBe(true);
  });

  it("delivers duplicates on demand", async () => {
    sandbox.webhooks.setFaults({ duplicate: 1 });
    await stripe.charges.create({ amount: 2200, currency: "aud" });
    await stripe.charges.create({ amount: 2300, currency: "aud" });
    await sandbox.waitForWebhooks();
    // Deliveries run concurrently, so only the counts are deterministic.
    const counts = new Map<string, number>();
    for (const r of receiver.received) counts.set(r.eventId, (counts.get(r.eventId) ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([1, 2]);
    const duplicated = receiver.received.filter((r) => counts.get(r.eventId) === 2);
    // Both copies verify: each attempt is signed afresh.
    for (const r of duplicated)
      expect(stripe.webhooks.constructEvent(r.body, r.signature, SECRET).type).toBe("charge.succeeded");
  });

  it("delivers out of order on demand", async () => {
    const set = await control(sandbox, "POST", "/_sandbox/webhooks/faults", {
      outOfOrder: 1,
    });
    expect(set.status).toBe(200);
    const first = await stripe.charges.create({
      amount: 2200,
      currency: "aud",
    });
    const second = await stripe.charges.create({
      amount: 2300,
      currency: "aud",
    });
    await sandbox.waitForWebhooks();
    const charges = receiver.received.map((r) => (JSON.parse(r.body) as Stripe.Event).data.object as Stripe.Charge);
    expect(charges.map((c) => c.id)).toEqual([second.id, first.id]);
  });

  it("drops deliveries on demand, and resends an event by id over HTTP", async () => {
    sandbox.webhooks.setFaults({ drop: 1 });
    await stripe.charges.create({ amount: 2200, currency: "aud" });
    await sandbox.waitForWebhooks();
    expect(receiver.received).toHaveLength(0);
    const [event] = (await stripe.events.list({ limit: 1 })).data;
    if (!event) throw new Error("no event");
    expect(sandbox.webhooks.deliveries()).toMatchObject([{ eventId: event.id, outcome: "dropped" }]);

    const resent = await control(sandbox, "POST", `/_sandbox/webhooks/resend/${event.id}`);
    expect(resent.status).toBe(200);
    await sandbox.waitForWebhooks();
    expect(receiver.received.map((r) => r.eventId)).toEqual([event.id]);
    expect((await control(sandbox, "POST", "/_sandbox/webhooks/resend/evt_nope")).status).toBe(404);
  });

  it("sends refund events with the refund and the updated charge", async () => {
    const charge = await stripe.charges.create({
      amount: 2200,
      currency: "aud",
    });
    await stripe.refunds.create({ charge: charge.id });
    await sandbox.waitForWebhooks();
    const types = receiver.received.map((r) => r.eventType).sort();
    expect(types).toEqual(["charge.refunded", "charge.succeeded", "refund.created"]);
    const refunded = receiver.received.find((r) => r.eventType === "charge.refunded");
    const event = stripe.webhooks.constructEvent(refunded?.body ?? "", refunded?.signature ?? "", SECRET);
    expect(event.data.object).toMatchObject({
      id: charge.id,
      refunded: true,
      amount_refunded: 2200,
    });
  });
});
