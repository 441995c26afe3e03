// Notifications to people go through the outbox. A notification is routed by severity to every
// enabled channel that takes that severity (PRODUCT.md §5, set per channel by an ADMIN: green →
// Slack status post; yellow → email; red → PagerDuty + ticket webhook + Slack) and written in the
// caller's transaction, one outbox row per channel; the worker delivers them. Both the alerts and
// the weekly checkup notify through here, so routing lives in one place.
import type { DbTx, Severity } from "@steward/db/client";
import { GROUP_WINDOW_MS } from "./notifications/grouping.ts";

/** Outbox kinds of channel deliveries: "notify.slack", "notify.email", "notify.pagerduty", "notify.webhook". */
export const NOTIFICATION_KIND_PREFIX = "notify.";

/** PagerDuty's event actions; other channels word their message by it. */
export type NotificationEvent = "trigger" | "acknowledge" | "resolve";

export interface Notification {
  /** Stable identity of what is notified about (an alert's fingerprint): PagerDuty's `dedup_key`. */
  dedupKey: string;
  /** Unique per effect (e.g. an alert event's id): enqueueing the same occurrence twice is a no-op. */
  occurrence: string;
  severity: Severity;
  event: NotificationEvent;
  title: string;
  text: string;
  /** What raised it, e.g. "steward.alerts" or "steward.weekly-checkup". */
  source: string;
  alertId?: string;
  /** Short facts shown beside the text (Slack fields, PagerDuty custom_details). */
  fields?: Record<string, string>;
  /** The cause the alert shares with others: its trigger waits GROUP_WINDOW_MS and goes out for the group. */
  group?: string;
}

/** Call inside the transaction that causes the notification. Returns how many deliveries were enqueued. */
export async function enqueueNotification(tx: DbTx, notification: Notification): Promise<number> {
  const channels = await tx.notificationChannel.findMany({
    where: { enabled: true, severities: { has: notification.severity } },
    select: { id: true, kind: true },
  });
  if (channels.length === 0) return 0;
  const { alertId, occurrence, ...payload } = notification;
  // A group's trigger waits for the members raised alongside it (see notifications/grouping.ts).
  const nextAttemptAt =
    notification.group && notification.event === "trigger" ? new Date(Date.now() + GROUP_WINDOW_MS) : undefined;
  const inserted = await tx.outboxMessage.createMany({
    data: channels.map((channel) => ({
      kind: `${NOTIFICATION_KIND_PREFIX}${channel.kind.toLowerCase()}`,
      channelId: channel.id,
      alertId: alertId ?? null,
      dedupKey: `${occurrence}:${channel.id}`,
      payload: { ...payload, fields: payload.fields ?? {} },
      ...(nextAttemptAt ? { nextAttemptAt } : {}),
    })),
    skipDuplicates: true,
  });
  return inserted.count;
}
