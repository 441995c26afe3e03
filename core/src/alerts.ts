// The alert core: conditions become alerts deduplicated by a stable fingerprint. A condition
// that is already open updates its alert (count, last seen); a cleared one resolves it with a
// note; a returning one reopens it. Operators acknowledge, silence (for a bounded window) and
// resolve. Every change goes on the alert's timeline and the audit log, notifies the channels
// routed by severity through the outbox (same transaction; unless silenced or inhibited), and is
// published as `alertChanged` after commit.
//
//   FIRING ──acknowledge──▶ ACKNOWLEDGED ──resolve (note)──▶ RESOLVED ──condition returns──▶ FIRING
//     └──────────────────────── resolve / condition cleared ──────▲
import type { Alert, DbTx, Severity } from "@steward/db/client";
import { type Actor, actorId, actorLabel, systemActor } from "./actor.ts";
import { type AlertRuleKey, isAlertRuleKey } from "./alertRuleKeys.ts";
import { recordAudit } from "./audit.ts";
import type { CoreDeps } from "./deps.ts";
import { ConflictError, DomainError, ForbiddenActionError, InvalidInputError, NotFoundError } from "./errors.ts";
import { deliverOutboxSoon } from "./followUps.ts";
import type { AlertChangedEvent } from "./ports/events.ts";
import { isUuid } from "./ids.ts";
import { maintenanceWindowMuting } from "./maintenanceWindows.ts";
import { enqueueNotification, type NotificationEvent } from "./notifications.ts";
import { groupDedupKey, notifiedGroupMember, otherOpenMembers } from "./notifications/grouping.ts";
import { assertOperatorCan, tokenHasScope } from "./permissions.ts";
import { type AfterCommit, type EffectDeps, inTransaction, type UnitOfWork } from "./unitOfWork.ts";

export interface AlertCondition {
  fingerprint: string;
  /** A key of the rule registry: the rules page, settings and inhibitions know it by that name. */
  ruleKey: AlertRuleKey;
  severity: Severity;
  title: string;
  detail: string;
  labels?: Record<string, string>;
  /** The cause it shares with other conditions (e.g. every region's backlog): notified as one group. */
  groupKey?: string;
}

export type AlertChange = "OPENED" | "UPDATED" | "REOPENED" | "ESCALATED";

/**
 * Inhibition, in one place: while an alert of the key rule is open, alerts of the listed rules
 * are explained by it and notify no one (they still record). Stripe being unreachable explains
 * failing webhooks and a reconciliation that cannot match.
 */
export const INHIBITIONS: Readonly<Partial<Record<AlertRuleKey, readonly AlertRuleKey[]>>> = {
  "stripe.unreachable": ["stripe.webhook_failures", "reconciliation.mismatch"],
};

function inhibitorsOf(ruleKey: string): string[] {
  return Object.entries(INHIBITIONS)
    .filter(([, inhibited]) => inhibited.some((key) => key === ruleKey))
    .map(([inhibitor]) => inhibitor);
}

/**
 * Rules are evaluated every minute and each evaluation that still finds the condition raises the
 * alert again (count + 1, lastSeenAt = now). An open alert seen again this recently is a condition
 * that still holds: resolving it would only reopen it at the next evaluation.
 */
export const STILL_HOLDS_WITHIN_MS = 3 * 60_000;

export function conditionStillHolds(alert: Pick<Alert, "status" | "count" | "lastSeenAt">, now = new Date()): boolean {
  return (
    alert.status !== "RESOLVED" && alert.count > 1 && now.getTime() - alert.lastSeenAt.getTime() < STILL_HOLDS_WITHIN_MS
  );
}

/** Longest silence an operator may set: a longer one would hide a real problem for good. */
export const MAX_SILENCE_MS = 7 * 24 * 3_600_000;
const MIN_SILENCE_MS = 60_000;

export class AlertResolvedError extends DomainError {
  readonly code = "ALERT_RESOLVED";
  constructor(readonly resolvedAt: Date) {
    super(`The alert was already resolved at ${resolvedAt.toISOString()}`);
  }
}

/**
 * What a rule's or the system's change to an alert needs: its rows are written in one transaction
 * and `alertChanged` is published after the commit (./unitOfWork.ts), never for a rolled-back change.
 */
export type AlertDeps = Pick<CoreDeps, "db"> & EffectDeps;

const changed = (
  alert: Pick<Alert, "id" | "fingerprint">,
  change: AlertChangedEvent["change"],
  status: Alert["status"],
) => ({
  alertId: alert.id,
  fingerprint: alert.fingerprint,
  change,
  status,
});

/**
 * Enqueues `event` for the alert's channels, unless it is silenced or in a maintenance window
 * (both only when `respectSilence`) or inhibited;
 * either way the timeline says what happened. `occurrence` is unique per effect (an alert event id).
 */
async function notify(
  tx: DbTx,
  alert: Alert,
  event: NotificationEvent,
  occurrence: string,
  now: Date,
  respectSilence = true,
): Promise<void> {
  const note = (message: string) =>
    tx.alertEvent.create({ data: { alertId: alert.id, kind: "NOTIFIED", actorKind: "SYSTEM", message } });
  if (respectSilence && alert.silencedUntil && alert.silencedUntil > now) {
    await note(`Not notified (${event}): silenced until ${alert.silencedUntil.toISOString()}`);
    return;
  }
  const maintenance = respectSilence ? await maintenanceWindowMuting(tx, alert.ruleKey, now) : null;
  if (maintenance) {
    await note(
      `Not notified (${event}): maintenance window "${maintenance.title}" until ${maintenance.endsAt.toISOString()}`,
    );
    return;
  }
  const inhibitors = inhibitorsOf(alert.ruleKey);
  if (inhibitors.length > 0) {
    const inhibitor = await tx.alert.findFirst({
      where: { ruleKey: { in: inhibitors }, status: { not: "RESOLVED" } },
      select: { title: true },
    });
    if (inhibitor) {
      await note(`Not notified (${event}): inhibited while "${inhibitor.title}" is open`);
      return;
    }
  }
  if (alert.groupKey && event === "trigger") {
    const covering = await notifiedGroupMember(tx, alert);
    if (covering) {
      await note(`Not notified (${event}): grouped with "${covering.title}", already notified for this cause`);
      return;
    }
  }
  if (alert.groupKey && event === "resolve") {
    const stillOpen = await otherOpenMembers(tx, alert);
    if (stillOpen > 0) {
      await note(`Not notified (${event}): ${stillOpen} other alert(s) of this cause still open`);
      return;
    }
  }
  const enqueued = await enqueueNotification(tx, {
    dedupKey: alert.groupKey ? groupDedupKey(alert.groupKey) : alert.fingerprint,
    ...(alert.groupKey ? { group: alert.groupKey } : {}),
    occurrence,
    severity: alert.severity,
    event,
    title: alert.title,
    text: event === "resolve" ? (alert.resolutionNote ?? "Resolved") : alert.detail,
    source: "steward.alerts",
    alertId: alert.id,
    fields: {
      Rule: alert.ruleKey,
      Status: alert.status,
      Occurrences: String(alert.count),
      "First seen": alert.firstSeenAt.toISOString(),
      ...(alert.labels && typeof alert.labels === "object" && !Array.isArray(alert.labels)
        ? Object.fromEntries(
            Object.entries(alert.labels).map(([key, value]) => [
              key,
              typeof value === "string" ? value : JSON.stringify(value),
            ]),
          )
        : {}),
    },
  });
  // Nothing routed (no channel takes this severity): nothing to say on the timeline.
  if (enqueued > 0) await note(`Notified ${enqueued} channel(s) (${event})`);
}

export async function raiseAlert(deps: AlertDeps, condition: AlertCondition, now = new Date()): Promise<AlertChange> {
  const actor = systemActor(`rule:${condition.ruleKey}`);
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const existing = await tx.alert.findUnique({ where: { fingerprint: condition.fingerprint } });
    if (!existing) {
      const alert = await tx.alert.create({
        data: { ...condition, labels: condition.labels ?? {}, firstSeenAt: now, lastSeenAt: now },
      });
      const fired = await tx.alertEvent.create({
        data: { alertId: alert.id, kind: "FIRED", actorKind: "SYSTEM", message: condition.detail },
      });
      await recordAudit(tx, actor, {
        action: "alert.fire",
        targetType: "Alert",
        targetId: alert.id,
        after: { severity: condition.severity, title: condition.title },
      });
      await notify(tx, alert, "trigger", fired.id, now);
      unit.publish("alertChanged", changed(alert, "OPENED", alert.status));
      return "OPENED" as const;
    }
    const reopened = existing.status === "RESOLVED";
    const escalated = !reopened && existing.severity !== condition.severity;
    const alert = await tx.alert.update({
      where: { id: existing.id },
      data: {
        severity: condition.severity,
        title: condition.title,
        detail: condition.detail,
        groupKey: condition.groupKey ?? null,
        // Labels may carry what the condition found this time (a refund-rate alert's repeat refunders).
        ...(condition.labels ? { labels: condition.labels } : {}),
        count: { increment: 1 },
        lastSeenAt: now,
        ...(reopened
          ? {
              status: "FIRING",
              resolvedAt: null,
              resolutionNote: null,
              acknowledgedAt: null,
              acknowledgedById: null,
            }
          : {}),
      },
    });
    const result = reopened ? "REOPENED" : escalated ? "ESCALATED" : "UPDATED";
    unit.publish("alertChanged", changed(alert, result, alert.status));
    if (!reopened && !escalated) return result;
    const event = await tx.alertEvent.create({
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
    await notify(tx, alert, "trigger", event.id, now);
    return result;
  });
}

/** Resolves an open alert inside `tx`; notifies even while silenced, so pages get closed. */
async function resolveInTx(tx: DbTx, alert: Alert, note: string, actor: Actor, now: Date): Promise<Alert> {
  const resolved = await tx.alert.update({
    where: { id: alert.id },
    data: { status: "RESOLVED", resolvedAt: now, resolutionNote: note, silencedUntil: null },
  });
  const event = await tx.alertEvent.create({
    data: { alertId: alert.id, kind: "RESOLVED", actorKind: actor.kind, actorId: actorId(actor), message: note },
  });
  await recordAudit(tx, actor, {
    action: "alert.resolve",
    targetType: "Alert",
    targetId: alert.id,
    before: { status: alert.status },
    after: { status: "RESOLVED" },
    reason: note,
  });
  await notify(tx, resolved, "resolve", event.id, now, false);
  return resolved;
}

/** Alerts this one inhibited start notifying once it resolves (they are no longer explained). */
async function releaseInhibited(unit: UnitOfWork, inhibitor: Alert, now: Date): Promise<void> {
  const { tx } = unit;
  const inhibited = isAlertRuleKey(inhibitor.ruleKey) ? INHIBITIONS[inhibitor.ruleKey] : undefined;
  if (!inhibited) return;
  const stillInhibited = await tx.alert.findFirst({
    where: { ruleKey: inhibitor.ruleKey, status: { not: "RESOLVED" }, id: { not: inhibitor.id } },
    select: { id: true },
  });
  if (stillInhibited) return;
  const open = await tx.alert.findMany({ where: { ruleKey: { in: [...inhibited] }, status: { not: "RESOLVED" } } });
  for (const alert of open) {
    const event = await tx.alertEvent.create({
      data: {
        alertId: alert.id,
        kind: "UPDATED",
        actorKind: "SYSTEM",
        message: `No longer inhibited: "${inhibitor.title}" resolved`,
      },
    });
    await notify(tx, alert, "trigger", event.id, now);
    unit.publish("alertChanged", changed(alert, "UPDATED", alert.status));
  }
}

/** The condition cleared: resolve its alert (if open) with a note. */
export async function clearAlert(
  deps: AlertDeps,
  fingerprint: string,
  note: string,
  actor: Actor = systemActor("alerts"),
): Promise<boolean> {
  const now = new Date();
  return inTransaction(deps, async (unit) => {
    const alert = await unit.tx.alert.findUnique({ where: { fingerprint } });
    if (!alert || alert.status === "RESOLVED") return false;
    await resolveAndRelease(unit, alert, note, actor, now);
    return true;
  });
}

/** Resolves the alert, publishes that, and lets the alerts it inhibited notify again. */
async function resolveAndRelease(
  unit: UnitOfWork,
  alert: Alert,
  note: string,
  actor: Actor,
  now: Date,
): Promise<Alert> {
  const resolved = await resolveInTx(unit.tx, alert, note, actor, now);
  unit.publish("alertChanged", changed(resolved, "RESOLVED", "RESOLVED"));
  await releaseInhibited(unit, resolved, now);
  return resolved;
}

/** Locks the alert row for the rest of the transaction, so two operators cannot both act on it. */
async function lockedAlert(tx: DbTx, alertId: string): Promise<Alert> {
  await tx.$queryRaw`SELECT id FROM "Alert" WHERE id = ${alertId}::uuid FOR UPDATE`;
  const alert = await tx.alert.findUnique({ where: { id: alertId } });
  if (!alert) throw new NotFoundError("Alert", alertId);
  if (alert.status === "RESOLVED") throw new AlertResolvedError(alert.resolvedAt ?? alert.lastSeenAt);
  return alert;
}

function requireAlertId(alertId: string): void {
  if (!isUuid(alertId)) throw new NotFoundError("Alert", alertId);
}

/** Who may take or close an alert: an OPERATOR or ADMIN, an on-call tool's alerts:write token, the system. */
function assertMayHandleAlert(actor: Actor): void {
  if (actor.kind !== "API_TOKEN") return assertOperatorCan(actor, "operate");
  if (!tokenHasScope(actor, "alerts:write"))
    throw new ForbiddenActionError("This token needs the 'alerts:write' scope");
}

/** An operator's action on an alert: published, and its notifications delivered, after commit. */
export type AlertActionDeps = AlertDeps & Pick<CoreDeps, "clock">;

/**
 * The action's notifications go now rather than at the outbox's next run. An alert can be
 * acknowledged, resolved and reopened many times: each action is its own delivery cause.
 */
function deliverActionSoon(unit: AfterCommit, alertId: string, action: string, now: Date): void {
  deliverOutboxSoon(unit, `alert-${alertId}-${action}-${now.getTime()}`);
}

/** An operator takes the alert: it stays open, PagerDuty stops escalating. */
export async function acknowledgeAlert(deps: AlertActionDeps, actor: Actor, alertId: string): Promise<Alert> {
  assertMayHandleAlert(actor);
  requireAlertId(alertId);
  const now = deps.clock();
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const current = await lockedAlert(tx, alertId);
    if (current.status === "ACKNOWLEDGED")
      throw new ConflictError(`The alert was already acknowledged at ${current.acknowledgedAt?.toISOString() ?? "?"}`);
    const updated = await tx.alert.update({
      where: { id: alertId },
      data: {
        status: "ACKNOWLEDGED",
        acknowledgedAt: now,
        acknowledgedById: actor.kind === "OPERATOR" ? actor.id : null,
      },
    });
    const event = await tx.alertEvent.create({
      data: {
        alertId,
        kind: "ACKNOWLEDGED",
        actorKind: actor.kind,
        actorId: actorId(actor),
        message: `Acknowledged by ${actorLabel(actor)}`,
      },
    });
    await recordAudit(tx, actor, {
      action: "alert.acknowledge",
      targetType: "Alert",
      targetId: alertId,
      before: { status: current.status },
      after: { status: "ACKNOWLEDGED" },
    });
    await notify(tx, updated, "acknowledge", event.id, now);
    unit.publish("alertChanged", changed(updated, "ACKNOWLEDGED", updated.status));
    deliverActionSoon(unit, alertId, "acknowledged", now);
    return updated;
  });
}

/**
 * Mutes an open alert's notifications until `until` (it still records every occurrence). When the
 * window ends and the alert is still open, a reminder goes out (remindSilencedAlerts).
 */
export async function silenceAlert(
  deps: AlertActionDeps,
  actor: Actor,
  alertId: string,
  until: Date,
  reason: string | null = null,
): Promise<Alert> {
  requireAlertId(alertId);
  const now = deps.clock();
  if (Number.isNaN(until.getTime())) throw new InvalidInputError("The silence end is not a date", "until");
  if (until.getTime() < now.getTime() + MIN_SILENCE_MS)
    throw new InvalidInputError("A silence must end at least a minute in the future", "until");
  if (until.getTime() > now.getTime() + MAX_SILENCE_MS)
    throw new InvalidInputError("A silence may last at most 7 days", "until");
  const cleanReason = reason?.trim() || null;
  if (cleanReason && cleanReason.length > 500)
    throw new InvalidInputError("The reason is too long (500 max)", "reason");
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const current = await lockedAlert(tx, alertId);
    const updated = await tx.alert.update({ where: { id: alertId }, data: { silencedUntil: until } });
    await tx.alertEvent.create({
      data: {
        alertId,
        kind: "SILENCED",
        actorKind: actor.kind,
        actorId: actorId(actor),
        message: `Silenced by ${actorLabel(actor)} until ${until.toISOString()}${cleanReason ? `: ${cleanReason}` : ""}`,
      },
    });
    await recordAudit(tx, actor, {
      action: "alert.silence",
      targetType: "Alert",
      targetId: alertId,
      before: { silencedUntil: current.silencedUntil?.toISOString() ?? null },
      after: { silencedUntil: until.toISOString() },
      ...(cleanReason ? { reason: cleanReason } : {}),
    });
    unit.publish("alertChanged", changed(updated, "SILENCED", updated.status));
    return updated;
  });
}

/** An operator closes the alert with a note (what was done). It reopens if the condition returns. */
export async function resolveAlert(deps: AlertActionDeps, actor: Actor, alertId: string, note: string): Promise<Alert> {
  assertMayHandleAlert(actor);
  requireAlertId(alertId);
  const cleanNote = note.trim();
  if (cleanNote.length < 3) throw new InvalidInputError("Say what was done (at least 3 characters)", "note");
  if (cleanNote.length > 2000) throw new InvalidInputError("The note is too long (2,000 max)", "note");
  const now = deps.clock();
  return inTransaction(deps, async (unit) => {
    const current = await lockedAlert(unit.tx, alertId);
    const resolved = await resolveAndRelease(unit, current, cleanNote, actor, now);
    deliverActionSoon(unit, alertId, "resolved", now);
    return resolved;
  });
}

/** Open alerts whose silence ended get one reminder, and are unsilenced. Returns how many. */
export async function remindSilencedAlerts(deps: AlertDeps, now = new Date()): Promise<number> {
  const due = await deps.db.alert.findMany({
    where: { silencedUntil: { lte: now }, status: { not: "RESOLVED" } },
    select: { id: true },
    take: 500,
  });
  let reminded = 0;
  for (const { id } of due) {
    // One transaction per alert: each reminder is published once its own change has committed.
    const remindedThis = await inTransaction(deps, async (unit) => {
      const { tx } = unit;
      await tx.$queryRaw`SELECT id FROM "Alert" WHERE id = ${id}::uuid FOR UPDATE`;
      const alert = await tx.alert.findUnique({ where: { id } });
      // Re-checked under the lock: a concurrent run or a new silence may have changed it.
      if (!alert?.silencedUntil || alert.silencedUntil > now || alert.status === "RESOLVED") return false;
      const unsilenced = await tx.alert.update({ where: { id }, data: { silencedUntil: null } });
      const event = await tx.alertEvent.create({
        data: {
          alertId: id,
          kind: "UPDATED",
          actorKind: "SYSTEM",
          message: `Silence ended at ${alert.silencedUntil.toISOString()}; the alert is still ${alert.status.toLowerCase()}`,
        },
      });
      await recordAudit(tx, systemActor("alert-reminders"), {
        action: "alert.remind",
        targetType: "Alert",
        targetId: id,
        before: { silencedUntil: alert.silencedUntil.toISOString() },
        after: { silencedUntil: null },
      });
      await notify(tx, unsilenced, "trigger", event.id, now);
      unit.publish("alertChanged", changed(unsilenced, "REMINDED", unsilenced.status));
      return true;
    });
    if (remindedThis) reminded += 1;
  }
  return reminded;
}
