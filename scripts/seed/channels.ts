// Demo notification channels, one of each kind, routed as PRODUCT.md §5 says (green → Slack
// status post; yellow → email; red → PagerDuty + ticket webhook + Slack), all pointing at the
// local notify sandbox (and the SMTP sandbox for email), so the demo and e2e show deliveries.
// Safe to re-run: channels are upserted by name (a re-run points them at the current sandbox).
import { systemActor } from "@steward/core/actor";
import type { SecretCipher } from "@steward/core/channelSecrets";
import { upsertNotificationChannel } from "@steward/core/notificationChannels";
import type { Db } from "@steward/db/client";

export interface DemoReceivers {
  /** The notify sandbox, e.g. http://127.0.0.1:12114. */
  notifyUrl: string;
  /** The shared HMAC secret the sandbox's ticket webhook verifies. */
  webhookSecret: string;
}

/** 32 characters, as PagerDuty integration keys are. */
export const DEMO_PAGERDUTY_ROUTING_KEY = "stewarddemoroutingkey00000000000";

/** `secrets` must seal under the key the worker opens with (NOTIFY_SECRET_KEY, or the development key). */
export async function seedDemoChannels(db: Db, secrets: SecretCipher, receivers: DemoReceivers): Promise<void> {
  const actor = systemActor("seed");
  await upsertNotificationChannel({ db, secrets }, actor, {
    name: "Slack #ops",
    kind: "SLACK",
    url: `${receivers.notifyUrl}/slack/T0DEMO/B0DEMO/demo-webhook-token`,
    severities: ["GREEN", "RED"],
  });
  await upsertNotificationChannel({ db, secrets }, actor, {
    name: "Operator email",
    kind: "EMAIL",
    recipients: ["operator@steward.test"],
    severities: ["YELLOW"],
  });
  await upsertNotificationChannel({ db, secrets }, actor, {
    name: "PagerDuty on-call",
    kind: "PAGERDUTY",
    url: `${receivers.notifyUrl}/v2/enqueue`,
    secret: DEMO_PAGERDUTY_ROUTING_KEY,
    severities: ["RED"],
  });
  await upsertNotificationChannel({ db, secrets }, actor, {
    name: "Ticket webhook",
    kind: "WEBHOOK",
    url: `${receivers.notifyUrl}/webhook/tickets`,
    secret: receivers.webhookSecret,
    severities: ["RED"],
  });
}
