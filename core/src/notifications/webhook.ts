// A generic webhook (for a ticketing system), signed so the receiver can tell it came from us and
// was not replayed: `X-Steward-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
// (the scheme Stripe uses). The receiver recomputes it with the shared secret and rejects old
// timestamps.
import { createHmac } from "node:crypto";
import type { NotificationPayload, SendOutcome } from "./http.ts";
import { postJson } from "./http.ts";

export const SIGNATURE_HEADER = "x-steward-signature";

export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${digest}`;
}

export interface WebhookBody {
  /** Unique per delivery (the outbox message): a receiver ignores one it has seen. */
  id: string;
  type: `alert.${NotificationPayload["event"]}`;
  dedupKey: string;
  severity: NotificationPayload["severity"];
  title: string;
  text: string;
  source: string;
  fields: Record<string, string>;
  sentAt: string;
}

export function webhookBody(deliveryId: string, notification: NotificationPayload, now: Date): WebhookBody {
  return {
    id: deliveryId,
    type: `alert.${notification.event}`,
    dedupKey: notification.dedupKey,
    severity: notification.severity,
    title: notification.title,
    text: notification.text,
    source: notification.source,
    fields: notification.fields,
    sentAt: now.toISOString(),
  };
}

export function sendWebhook(
  url: string,
  secret: string,
  deliveryId: string,
  notification: NotificationPayload,
  now = new Date(),
): Promise<SendOutcome> {
  const body = JSON.stringify(webhookBody(deliveryId, notification, now));
  const signature = webhookSignature(secret, Math.floor(now.getTime() / 1000), body);
  return postJson(url, body, { [SIGNATURE_HEADER]: signature, "x-steward-delivery": deliveryId });
}
