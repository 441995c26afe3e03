// PagerDuty Events API v2: the alert's fingerprint is the `dedup_key`, so a trigger, its
// acknowledge and its resolve all act on the same PagerDuty incident, and repeated triggers
// while it is open are merged by PagerDuty.
import { DeliveryFailure, type NotificationPayload, postJson, type SendOutcome } from "./http.ts";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

export type PagerDutyEvent =
  | {
      routing_key: string;
      event_action: "trigger";
      dedup_key: string;
      payload: {
        summary: string;
        source: string;
        severity: "critical" | "error" | "warning" | "info";
        custom_details: Record<string, string>;
      };
    }
  | { routing_key: string; event_action: "acknowledge" | "resolve"; dedup_key: string };

const SEVERITY = { RED: "critical", YELLOW: "warning", GREEN: "info" } as const;

export function pagerDutyEvent(routingKey: string, notification: NotificationPayload): PagerDutyEvent {
  const dedupKey = notification.dedupKey.slice(0, 255);
  if (notification.event !== "trigger")
    return { routing_key: routingKey, event_action: notification.event, dedup_key: dedupKey };
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: {
      summary: notification.title.slice(0, 1024),
      source: notification.source,
      severity: SEVERITY[notification.severity],
      custom_details: { ...notification.fields, text: notification.text },
    },
  };
}

export async function sendPagerDuty(
  eventsUrl: string,
  routingKey: string,
  notification: NotificationPayload,
): Promise<SendOutcome> {
  const outcome = await postJson(eventsUrl, JSON.stringify(pagerDutyEvent(routingKey, notification)));
  // PagerDuty answers 202 {status: "success", dedup_key}; anything else was not taken.
  if (outcome.responseCode !== 202) {
    throw new DeliveryFailure(
      `PagerDuty answered ${outcome.responseCode}: ${outcome.response}`,
      outcome.responseCode,
      false,
    );
  }
  return outcome;
}
