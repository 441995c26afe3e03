// Delivers due `notify.*` outbox messages to their channels, outside any transaction, and
// records every attempt (the delivery log shown per alert):
//   PENDING ──sent──▶ SENT
//      │ fail
//      ▼
//   FAILED (retried with exponential backoff) ──sent──▶ SENT
//      └── last attempt, a permanent refusal (4xx, bad key) or a channel gone ──▶ DEAD
// The claim (FOR UPDATE SKIP LOCKED, so concurrent deliverers never send one message twice), the
// backoff and the DEAD bookkeeping are the email outbox's `deliverDue`; this is only the deliverer.
import type { Db } from "@steward/db/client";
import type { CoreDeps } from "../deps.ts";
import type { EventPublisher } from "../ports/events.ts";
import { type ChannelSenders, sendToChannel } from "../notificationChannels.ts";
import { NOTIFICATION_KIND_PREFIX } from "../notifications.ts";
import { type AttemptResult, type Claimed, deliverDue, type DeliveryOptions, type DeliveryReport } from "../outbox.ts";
import { withGroupMembers } from "./grouping.ts";
import { DeliveryFailure, notificationPayloadSchema } from "./http.ts";

export type NotificationDeliveryDeps = Pick<CoreDeps, "db" | "mail" | "secrets"> & {
  /** When given, each alert whose delivery log changed is published (the Alerts page refreshes). */
  events?: EventPublisher;
};

function refused(failure: DeliveryFailure): AttemptResult {
  return { ok: false, error: failure.message, responseCode: failure.responseCode, permanent: failure.permanent };
}

async function attempt(db: Db, deps: ChannelSenders, message: Claimed): Promise<AttemptResult> {
  const row = await db.outboxMessage.findUnique({ where: { id: message.id }, include: { channel: true } });
  const parsed = notificationPayloadSchema.safeParse(message.payload);
  if (!parsed.success)
    return refused(new DeliveryFailure(`Invalid notification payload: ${parsed.error.message}`, null, true));
  if (!row?.channel) return refused(new DeliveryFailure("The channel no longer exists", null, true));
  if (!row.channel.enabled) return refused(new DeliveryFailure("The channel was disabled", null, true));
  try {
    const outcome = await sendToChannel(deps, row.channel, message.id, await withGroupMembers(db, parsed.data));
    return { ok: true, responseCode: outcome.responseCode };
  } catch (error) {
    return refused(
      error instanceof DeliveryFailure
        ? error
        : new DeliveryFailure(error instanceof Error ? error.message : String(error), null, false),
    );
  }
}

export async function deliverDueNotifications(
  deps: NotificationDeliveryDeps,
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const { db } = deps;
  const senders: ChannelSenders = { email: deps.mail, secrets: deps.secrets };
  const changedAlerts = new Map<string, { fingerprint: string; status: "FIRING" | "ACKNOWLEDGED" | "RESOLVED" }>();
  const report = await deliverDue(
    db,
    {
      kindPrefix: NOTIFICATION_KIND_PREFIX,
      deadAction: "notification.dead",
      send: (message) => attempt(db, senders, message),
      // The alert's timeline says when a delivery gave up.
      async onDead(tx, message, error) {
        const row = await tx.outboxMessage.findUnique({
          where: { id: message.id },
          select: { alertId: true, channel: { select: { name: true } } },
        });
        if (!row?.alertId) return;
        await tx.alertEvent.create({
          data: {
            alertId: row.alertId,
            kind: "NOTIFIED",
            actorKind: "SYSTEM",
            message: `Delivery to ${row.channel?.name ?? "a removed channel"} gave up after ${message.attempts} attempt(s): ${error.slice(0, 300)}`,
          },
        });
      },
      async onSettled(tx, message) {
        const owner = await tx.outboxMessage.findUnique({
          where: { id: message.id },
          select: { alert: { select: { id: true, fingerprint: true, status: true } } },
        });
        if (owner?.alert)
          changedAlerts.set(owner.alert.id, { fingerprint: owner.alert.fingerprint, status: owner.alert.status });
      },
    },
    options,
  );
  // Each message settled in its own transaction (deliverDue): published after those commits, once per alert.
  for (const [alertId, alert] of changedAlerts)
    deps.events?.publish("alertChanged", {
      alertId,
      fingerprint: alert.fingerprint,
      change: "DELIVERY",
      status: alert.status,
    });
  return report;
}

export function describeNotificationDelivery(report: DeliveryReport): string {
  if (report.sent + report.retrying + report.dead === 0) return "no notification due";
  return `notifications sent ${report.sent}, will retry ${report.retrying}, dead ${report.dead}`;
}
