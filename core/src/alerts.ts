// The alert core: conditions become alerts deduplicated by a stable fingerprint. A condition
// that is already open updates its alert (count, last seen); a cleared one resolves it with a
// note; a returning one reopens it. Every change goes on the alert's timeline and the audit log.
// (Rules, routing and notifications build on this; see the alerts issue.)
import type { Db, Severity } from "@steward/db/client";
import { type Actor, actorId, systemActor } from "./actor.ts";
import { recordAudit } from "./audit.ts";

export interface AlertCondition {
  fingerprint: string;
  ruleKey: string;
  severity: Severity;
  title: string;
  detail: string;
  labels?: Record<string, string>;
}

export type AlertChange = "OPENED" | "UPDATED" | "REOPENED" | "ESCALATED";

export async function raiseAlert(db: Db, condition: AlertCondition, now = new Date()): Promise<AlertChange> {
  const actor = systemActor(`rule:${condition.ruleKey}`);
  return db.$transaction(async (tx) => {
    const existing = await tx.alert.findUnique({ where: { fingerprint: condition.fingerprint } });
    if (!existing) {
      const alert = await tx.alert.create({
        data: { ...condition, labels: condition.labels ?? {}, firstSeenAt: now, lastSeenAt: now },
      });
      await tx.alertEvent.create({
        data: { alertId: alert.id, kind: "FIRED", actorKind: "SYSTEM", message: condition.detail },
      });
      await recordAudit(tx, actor, {
        action: "alert.fire",
        targetType: "Alert",
        targetId: alert.id,
        after: { severity: condition.severity, title: condition.title },
      });
      return "OPENED";
    }
    const reopened = existing.status === "RESOLVED";
    const escalated = !reopened && existing.severity !== condition.severity;
    await tx.alert.update({
      where: { id: existing.id },
      data: {
        severity: condition.severity,
        title: condition.title,
        detail: condition.detail,
        count: { increment: 1 },
        lastSeenAt: now,
        ...(reopened
          ? { status: "FIRING", resolvedAt: null, resolutionNote: null, acknowledgedAt: null, acknowledgedById: null }
          : {}),
      },
    });
    if (reopened || escalated) {
      await tx.alertEvent.create({
        data: {
          alertId: existing.id,
          kind: reopened ? "REOPENED" : "UPDATED",
          actorKind: "SYSTEM",
          message: reopened
            ? `Condition returned: ${condition.detail}`
            : `Severity ${existing.severity} → ${condition.severity}: ${condition.detail}`,
        },
      });
      await recordAudit(tx, actor, {
        action: reopened ? "alert.reopen" : "alert.escalate",
        targetType: "Alert",
        targetId: existing.id,
        before: { status: existing.status, severity: existing.severity },
        after: { status: "FIRING", severity: condition.severity },
      });
    }
    return reopened ? "REOPENED" : escalated ? "ESCALATED" : "UPDATED";
  });
}

/** The condition cleared: resolve its alert (if open) with a note. */
export async function clearAlert(
  db: Db,
  fingerprint: string,
  note: string,
  actor: Actor = systemActor("alerts"),
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const alert = await tx.alert.findUnique({ where: { fingerprint } });
    if (!alert || alert.status === "RESOLVED") return false;
    await tx.alert.update({
      where: { id: alert.id },
      data: { status: "RESOLVED", resolvedAt: new Date(), resolutionNote: note },
    });
    await tx.alertEvent.create({
      data: { alertId: alert.id, kind: "RESOLVED", actorKind: actor.kind, actorId: actorId(actor), message: note },
    });
    await recordAudit(tx, actor, { action: "alert.resolve", targetType: "Alert", targetId: alert.id, reason: note });
    return true;
  });
}
