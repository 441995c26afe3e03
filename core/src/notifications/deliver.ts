// Delivers due `notify.*` outbox messages to their channels, outside any transaction, and
// records every attempt (the delivery log shown per alert):
//   PENDING ──sent──▶ SENT
//      │ fail
//      ▼
//   FAILED (retried with exponential backoff) ──sent──▶ SENT
//      └── last attempt, a permanent refusal (4xx, bad key) or a channel gone ──▶ DEAD
// Rows are claimed with FOR UPDATE SKIP LOCKED (the same claim as the email outbox), so
// concurrent deliverers never send one message twice.
import type { Db } from "@steward/db/client";
import { systemActor } from "../actor.ts";
import { recordAudit } from "../audit.ts";
import type { EventBus } from "../events.ts";
import { type ChannelSenders, sendToChannel } from "../notificationChannels.ts";
import { NOTIFICATION_KIND_PREFIX } from "../notifications.ts";
import { backoffMs, type Claimed, claimDue, type DeliveryOptions, type DeliveryReport } from "../outbox.ts";
import { DeliveryFailure, notificationPayloadSchema, type SendOutcome } from "./http.ts";

export interface NotificationDeliveryDeps extends ChannelSenders {
  /** When given, each alert whose delivery log changed is published (the Alerts page refreshes). */
  events?: EventBus;
}

type Attempt = { ok: true; outcome: SendOutcome } | { ok: false; failure: DeliveryFailure };

async function attempt(db: Db, deps: ChannelSenders, message: Claimed): Promise<Attempt> {
  const row = await db.outboxMessage.findUnique({ where: { id: message.id }, include: { channel: true } });
  const parsed = notificationPayloadSchema.safeParse(message.payload);
  if (!parsed.success)
    return {
      ok: false,
      failure: new DeliveryFailure(`Invalid notification payload: ${parsed.error.message}`, null, true),
    };
  if (!row?.channel) return { ok: false, failure: new DeliveryFailure("The channel no longer exists", null, true) };
  if (!row.channel.enabled) return { ok: false, failure: new DeliveryFailure("The channel was disabled", null, true) };
  try {
    return { ok: true, outcome: await sendToChannel(deps, row.channel, message.id, parsed.data) };
  } catch (error) {
    const failure =
      error instanceof DeliveryFailure
        ? error
        : new DeliveryFailure(error instanceof Error ? error.message : String(error), null, false);
    return { ok: false, failure };
  }
}

export async function deliverDueNotifications(
  db: Db,
  deps: NotificationDeliveryDeps,
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const clock = options.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 20;
  const maxMessages = options.maxMessages ?? 500;
  const report: DeliveryReport = { sent: 0, retrying: 0, dead: 0 };
  const actor = systemActor("outbox-delivery");
  const changedAlerts = new Map<string, { fingerprint: string; status: "FIRING" | "ACKNOWLEDGED" | "RESOLVED" }>();
  let handled = 0;
  while (handled < maxMessages) {
    const batch = await claimDue(
      db,
      clock(),
      Math.min(batchSize, maxMessages - handled),
      NOTIFICATION_KIND_PREFIX,
      options.leaseMs,
    );
    if (batch.length === 0) break;
    handled += batch.length;
    for (const message of batch) {
      const result = await attempt(db, deps, message);
      const now = clock();
      await db.$transaction(async (tx) => {
        const guard = {
          id: message.id,
          attempts: message.attempts,
          status: { in: ["PENDING" as const, "FAILED" as const] },
        };
        if (result.ok) {
          // Guarded by the attempt we claimed: a deliverer whose lease ran out cannot overwrite.
          const updated = await tx.outboxMessage.updateMany({
            where: guard,
            data: { status: "SENT", sentAt: now, lastError: null },
          });
          await tx.deliveryAttempt.create({
            data: {
              outboxId: message.id,
              attempt: message.attempts,
              ok: true,
              responseCode: result.outcome.responseCode,
            },
          });
          if (updated.count === 1) report.sent++;
        } else {
          const { failure } = result;
          const dead = failure.permanent || message.attempts >= options.maxAttempts;
          const error = failure.message.slice(0, 2000);
          await tx.outboxMessage.updateMany({
            where: guard,
            data: {
              status: dead ? "DEAD" : "FAILED",
              lastError: error,
              nextAttemptAt: new Date(now.getTime() + backoffMs(message.attempts)),
            },
          });
          await tx.deliveryAttempt.create({
            data: {
              outboxId: message.id,
              attempt: message.attempts,
              ok: false,
              responseCode: failure.responseCode,
              error,
            },
          });
          if (!dead) {
            report.retrying++;
            return;
          }
          report.dead++;
          await recordAudit(tx, actor, {
            action: "notification.dead",
            targetType: "OutboxMessage",
            targetId: message.id,
            after: { kind: message.kind, attempts: message.attempts },
            reason: error.slice(0, 500),
          });
          const row = await tx.outboxMessage.findUnique({
            where: { id: message.id },
            select: { alertId: true, channel: { select: { name: true } } },
          });
          if (row?.alertId) {
            await tx.alertEvent.create({
              data: {
                alertId: row.alertId,
                kind: "NOTIFIED",
                actorKind: "SYSTEM",
                message: `Delivery to ${row.channel?.name ?? "a removed channel"} gave up after ${message.attempts} attempt(s): ${error.slice(0, 300)}`,
              },
            });
          }
        }
        const owner = await tx.outboxMessage.findUnique({
          where: { id: message.id },
          select: { alert: { select: { id: true, fingerprint: true, status: true } } },
        });
        if (owner?.alert)
          changedAlerts.set(owner.alert.id, { fingerprint: owner.alert.fingerprint, status: owner.alert.status });
      });
    }
  }
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
