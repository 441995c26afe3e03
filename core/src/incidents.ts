// Incidents: the playbook's escalation levels on every alert, and the record of an outage.
//
// Every alert carries an incident severity P0–P3 (seeds/operational-playbooks-pos-saas.md,
// "Severity Levels"), mapped from its rule and overridable by an operator. One red alert, or
// several of one cause, become an Incident: impact, a timeline assembled from the alerts'
// timelines and the audit log, root cause, follow-ups, and the messages sent to the affected
// businesses (templated, through the email outbox, one per business and template however often
// the operator presses send). The post-incident summary is that record as Markdown.
//
//   alert(s) ──openIncident──▶ OPEN ──resolveIncident──▶ RESOLVED
//                               │ updateIncident (impact, root cause, follow-ups, severity)
//                               │ sendIncidentCommunication (per business, deduplicated)
import type { Alert, Db, DbTx, Incident, IncidentSeverity, Severity } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import type { CoreDeps } from "./deps.ts";
import { type IncidentTemplate, incidentTemplates, renderIncidentEmail } from "./email/incidentTemplates.ts";
import type { Env } from "./env.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";
import { deliverOutboxSoon } from "./followUps.ts";
import { isUuid } from "./ids.ts";
import { enqueueEmail } from "./outbox.ts";
import { assertOperatorCan } from "./permissions.ts";
import { type EffectDeps, inTransaction } from "./unitOfWork.ts";

export { incidentTemplates, type IncidentTemplate };

export interface IncidentLevel {
  severity: IncidentSeverity;
  meaning: string;
  /** How soon someone must respond (acknowledge). */
  respondWithinMinutes: number;
  /** How soon affected customers must be told; null: no notification needed. */
  notifyCustomersWithinMinutes: number | null;
}

/** The playbook's table. "Immediate response" is read as 15 minutes to acknowledge. */
export const incidentLevels: Readonly<Record<IncidentSeverity, IncidentLevel>> = {
  P0: {
    severity: "P0",
    meaning: "Service down or data loss",
    respondWithinMinutes: 15,
    notifyCustomersWithinMinutes: 60,
  },
  P1: {
    severity: "P1",
    meaning: "A feature or payments broken",
    respondWithinMinutes: 4 * 60,
    notifyCustomersWithinMinutes: 24 * 60,
  },
  P2: {
    severity: "P2",
    meaning: "A bug or degradation",
    respondWithinMinutes: 24 * 60,
    notifyCustomersWithinMinutes: null,
  },
  P3: { severity: "P3", meaning: "Minor", respondWithinMinutes: 48 * 60, notifyCustomersWithinMinutes: null },
};

const SEVERITY_ORDER: readonly IncidentSeverity[] = ["P0", "P1", "P2", "P3"];

/**
 * Which level a red alert of a rule maps to, by the rule key's prefix (first match wins). The
 * service itself down (database, worker, backups lost) is P0; money and the features the
 * marketplace sells are P1; any other red is P2. Yellow is P3.
 */
const RED_RULE_LEVELS: readonly (readonly [prefix: string, severity: IncidentSeverity])[] = [
  ["postgres.", "P0"],
  ["database.", "P0"],
  ["redis.", "P0"],
  ["worker.", "P0"],
  ["watchdog.", "P0"],
  ["backup.", "P0"],
  ["stripe.", "P1"],
  ["webhooks.", "P1"],
  ["payments.", "P1"],
  ["refunds.", "P1"],
  ["reconciliation.", "P1"],
  ["ai.", "P1"],
  ["jobs.", "P1"],
];

export function mappedIncidentSeverity(ruleKey: string, severity: Severity): IncidentSeverity {
  if (severity !== "RED") return "P3";
  return RED_RULE_LEVELS.find(([prefix]) => ruleKey.startsWith(prefix))?.[1] ?? "P2";
}

/** The alert's level: the operator's override, else the rule's. */
export function incidentSeverityOf(alert: Pick<Alert, "ruleKey" | "severity" | "incidentSeverity">): IncidentSeverity {
  return alert.incidentSeverity ?? mappedIncidentSeverity(alert.ruleKey, alert.severity);
}

export interface ResponseTimes {
  /** Seconds from first seen to acknowledged (or resolved, when never acknowledged); null while open and unacknowledged. */
  timeToAcknowledgeSeconds: number | null;
  /** Seconds from first seen to resolved; null while open. */
  timeToResolveSeconds: number | null;
  /** When a response was due at the alert's level. */
  respondBy: Date;
  /** Not acknowledged (nor resolved) by its level's deadline. */
  responseOverdue: boolean;
}

export function responseTimes(
  alert: Pick<Alert, "ruleKey" | "severity" | "incidentSeverity" | "firstSeenAt" | "acknowledgedAt" | "resolvedAt">,
  now = new Date(),
): ResponseTimes {
  const level = incidentLevels[incidentSeverityOf(alert)];
  const seconds = (at: Date | null) =>
    at ? Math.max(0, Math.round((at.getTime() - alert.firstSeenAt.getTime()) / 1000)) : null;
  const respondedAt = alert.acknowledgedAt ?? alert.resolvedAt;
  const respondBy = new Date(alert.firstSeenAt.getTime() + level.respondWithinMinutes * 60_000);
  return {
    timeToAcknowledgeSeconds: seconds(respondedAt),
    timeToResolveSeconds: seconds(alert.resolvedAt),
    respondBy,
    responseOverdue: (respondedAt ?? now).getTime() > respondBy.getTime(),
  };
}

function requireId(entity: string, id: string): void {
  if (!isUuid(id)) throw new NotFoundError(entity, id);
}

/** An operator sets an alert's level (null: back to the rule's). Audited. */
export async function setAlertIncidentSeverity(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: { alertId: string; severity: IncidentSeverity | null },
): Promise<Alert> {
  const { db } = deps;
  const { alertId, severity } = input;
  assertOperatorCan(actor, "operate");
  requireId("Alert", alertId);
  return db.$transaction(async (tx) => {
    const current = await tx.alert.findUnique({ where: { id: alertId } });
    if (!current) throw new NotFoundError("Alert", alertId);
    const updated = await tx.alert.update({ where: { id: alertId }, data: { incidentSeverity: severity } });
    await recordAudit(tx, actor, {
      action: "alert.incident_severity",
      targetType: "Alert",
      targetId: alertId,
      before: { incidentSeverity: incidentSeverityOf(current), overridden: current.incidentSeverity !== null },
      after: { incidentSeverity: incidentSeverityOf(updated), overridden: severity !== null },
    });
    return updated;
  });
}

export interface OpenIncidentInput {
  alertIds: readonly string[];
  title?: string | null;
  severity?: IncidentSeverity | null;
  impact?: string | null;
}

const MAX_ALERTS_PER_INCIDENT = 50;

function cleanText(value: string | null | undefined, field: string, max: number): string {
  const text = (value ?? "").trim();
  if (text.length > max) throw new InvalidInputError(`Too long (${max} characters max)`, field);
  return text;
}

/**
 * Opens an incident from open alerts of one cause, at least one of them red. Its level defaults to
 * the most severe of theirs. An alert belongs to at most one incident.
 */
export async function openIncident(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: OpenIncidentInput,
): Promise<Incident> {
  const { db } = deps;
  assertOperatorCan(actor, "operate");
  const alertIds = [...new Set(input.alertIds)];
  if (alertIds.length === 0) throw new InvalidInputError("Choose at least one alert", "alertIds");
  if (alertIds.length > MAX_ALERTS_PER_INCIDENT)
    throw new InvalidInputError(`At most ${MAX_ALERTS_PER_INCIDENT} alerts per incident`, "alertIds");
  for (const id of alertIds) requireId("Alert", id);
  const impact = cleanText(input.impact, "impact", 4000);
  const title = input.title === undefined || input.title === null ? null : cleanText(input.title, "title", 200);
  if (title !== null && title.length < 3)
    throw new InvalidInputError("Give the incident a title (3+ characters)", "title");
  return db.$transaction(async (tx) => {
    // Locked in id order, so two operators grouping overlapping alerts cannot both take one.
    await tx.$queryRaw`SELECT id FROM "Alert" WHERE id = ANY(${alertIds}::uuid[]) ORDER BY id FOR UPDATE`;
    const alerts = await tx.alert.findMany({ where: { id: { in: alertIds } }, orderBy: { firstSeenAt: "asc" } });
    const missing = alertIds.find((id) => !alerts.some((alert) => alert.id === id));
    if (missing) throw new NotFoundError("Alert", missing);
    const resolved = alerts.find((alert) => alert.status === "RESOLVED");
    if (resolved) throw new ConflictError(`"${resolved.title}" is already resolved`);
    const taken = alerts.find((alert) => alert.incidentId !== null);
    if (taken) throw new ConflictError(`"${taken.title}" already belongs to an incident`);
    if (!alerts.some((alert) => alert.severity === "RED"))
      throw new InvalidInputError("An incident starts from at least one red alert", "alertIds");
    const severity =
      input.severity ??
      SEVERITY_ORDER.find((level) => alerts.some((alert) => incidentSeverityOf(alert) === level)) ??
      "P2";
    const [first] = alerts;
    if (!first) throw new NotFoundError("Alert", alertIds[0] ?? "");
    const incident = await tx.incident.create({
      data: {
        title: title ?? (alerts.length === 1 ? first.title : `${first.title} (+${alerts.length - 1} related)`),
        severity,
        impact,
        openedById: actor.kind === "OPERATOR" ? actor.id : null,
      },
    });
    await tx.alert.updateMany({ where: { id: { in: alertIds } }, data: { incidentId: incident.id } });
    await recordAudit(tx, actor, {
      action: "incident.open",
      targetType: "Incident",
      targetId: incident.id,
      after: { title: incident.title, severity, alertIds },
    });
    return incident;
  });
}

export interface UpdateIncidentInput {
  title?: string | null;
  severity?: IncidentSeverity | null;
  impact?: string | null;
  rootCause?: string | null;
  followUps?: readonly string[] | null;
}

async function lockedIncident(tx: DbTx, incidentId: string): Promise<Incident> {
  requireId("Incident", incidentId);
  await tx.$queryRaw`SELECT id FROM "Incident" WHERE id = ${incidentId}::uuid FOR UPDATE`;
  const incident = await tx.incident.findUnique({ where: { id: incidentId } });
  if (!incident) throw new NotFoundError("Incident", incidentId);
  return incident;
}

/** Edits the record (what was hit, why, what follows). Only the given fields change. Audited. */
export async function updateIncident(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: UpdateIncidentInput & { incidentId: string },
): Promise<Incident> {
  const { db } = deps;
  const { incidentId } = input;
  assertOperatorCan(actor, "operate");
  const data: Partial<Pick<Incident, "title" | "severity" | "impact" | "rootCause" | "followUps">> = {};
  if (input.title !== undefined && input.title !== null) {
    data.title = cleanText(input.title, "title", 200);
    if (data.title.length < 3) throw new InvalidInputError("Give the incident a title (3+ characters)", "title");
  }
  if (input.severity) data.severity = input.severity;
  if (input.impact !== undefined && input.impact !== null) data.impact = cleanText(input.impact, "impact", 4000);
  if (input.rootCause !== undefined && input.rootCause !== null)
    data.rootCause = cleanText(input.rootCause, "rootCause", 4000);
  if (input.followUps !== undefined && input.followUps !== null) {
    if (input.followUps.length > 30) throw new InvalidInputError("At most 30 follow-ups", "followUps");
    data.followUps = input.followUps.map((item) => cleanText(item, "followUps", 500)).filter((item) => item !== "");
  }
  return db.$transaction(async (tx) => {
    const current = await lockedIncident(tx, incidentId);
    const updated = await tx.incident.update({ where: { id: incidentId }, data });
    const changedKeys = Object.keys(data) as (keyof typeof data)[];
    await recordAudit(tx, actor, {
      action: "incident.update",
      targetType: "Incident",
      targetId: incidentId,
      before: Object.fromEntries(changedKeys.map((key) => [key, current[key]])),
      after: Object.fromEntries(changedKeys.map((key) => [key, updated[key]])),
    });
    return updated;
  });
}

/** Closes the incident. Its alerts keep their own state (they resolve when their conditions clear). */
export async function resolveIncident(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: { incidentId: string },
): Promise<Incident> {
  const { db } = deps;
  const { incidentId } = input;
  const now = deps.clock();
  assertOperatorCan(actor, "operate");
  return db.$transaction(async (tx) => {
    const current = await lockedIncident(tx, incidentId);
    if (current.status === "RESOLVED")
      throw new ConflictError(`The incident was already resolved at ${current.resolvedAt?.toISOString() ?? "?"}`);
    const updated = await tx.incident.update({
      where: { id: incidentId },
      data: { status: "RESOLVED", resolvedAt: now },
    });
    await recordAudit(tx, actor, {
      action: "incident.resolve",
      targetType: "Incident",
      targetId: incidentId,
      before: { status: current.status },
      after: { status: "RESOLVED" },
    });
    return updated;
  });
}

export interface TimelineEntry {
  at: Date;
  source: "ALERT" | "AUDIT";
  /** Who or what acted, as the log recorded it. */
  actor: string;
  message: string;
}

const MAX_TIMELINE_ENTRIES = 500;

/** The alerts' timelines and every audit entry about the incident or its alerts, oldest first. */
export async function incidentTimeline(db: Db, incidentId: string): Promise<TimelineEntry[]> {
  requireId("Incident", incidentId);
  const alerts = await db.alert.findMany({ where: { incidentId }, select: { id: true, title: true } });
  const titles = new Map(alerts.map((alert) => [alert.id, alert.title]));
  const alertIds = alerts.map((alert) => alert.id);
  const [alertEvents, audit] = await Promise.all([
    db.alertEvent.findMany({
      where: { alertId: { in: alertIds } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: MAX_TIMELINE_ENTRIES,
    }),
    db.auditEvent.findMany({
      where: {
        OR: [
          { targetType: "Incident", targetId: incidentId },
          { targetType: "Alert", targetId: { in: alertIds } },
        ],
      },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: MAX_TIMELINE_ENTRIES,
    }),
  ]);
  const entries: TimelineEntry[] = [
    ...alertEvents.map((event) => ({
      at: event.createdAt,
      source: "ALERT" as const,
      actor: event.actorKind === "SYSTEM" ? "Steward" : event.actorKind.toLowerCase(),
      message: `${titles.get(event.alertId) ?? "Alert"}: ${event.message}`,
    })),
    ...audit.map((event) => ({
      at: event.createdAt,
      source: "AUDIT" as const,
      actor: event.actorLabel,
      message: describeAudit(event.action, event.reason),
    })),
  ];
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime()).slice(0, MAX_TIMELINE_ENTRIES);
}

function describeAudit(action: string, reason: string | null): string {
  return `${action}${reason ? `: ${reason}` : ""}`;
}

// ───────────────────────────── Communications ─────────────────────────────

export interface CommunicationPreview {
  template: IncidentTemplate;
  recipients: number;
  /** The first recipient's message, exactly as it will be sent. */
  subject: string;
  text: string;
}

const MAX_RECIPIENTS = 1000;

async function recipients(db: DbTx, businessIds: readonly string[]) {
  const ids = [...new Set(businessIds)];
  if (ids.length === 0) throw new InvalidInputError("Choose at least one business", "businessIds");
  if (ids.length > MAX_RECIPIENTS) throw new InvalidInputError(`At most ${MAX_RECIPIENTS} businesses`, "businessIds");
  for (const id of ids) requireId("Business", id);
  const businesses = await db.business.findMany({
    where: { id: { in: ids } },
    select: { id: true, name: true, email: true },
    orderBy: { name: "asc" },
  });
  const missing = ids.find((id) => !businesses.some((business) => business.id === id));
  if (missing) throw new NotFoundError("Business", missing);
  return businesses;
}

function requireTemplate(template: string): IncidentTemplate {
  if (!(incidentTemplates as readonly string[]).includes(template))
    throw new InvalidInputError(`Unknown template; use one of ${incidentTemplates.join(", ")}`, "template");
  return template as IncidentTemplate;
}

export interface CommunicationOptions {
  timeZone: string;
  signature?: string;
}

/** What the message will say, before anything is sent. */
export async function previewIncidentCommunication(
  db: Db,
  incidentId: string,
  template: string,
  businessIds: readonly string[],
  options: CommunicationOptions,
): Promise<CommunicationPreview> {
  const chosen = requireTemplate(template);
  requireId("Incident", incidentId);
  const incident = await db.incident.findUnique({ where: { id: incidentId } });
  if (!incident) throw new NotFoundError("Incident", incidentId);
  const businesses = await recipients(db, businessIds);
  const [first] = businesses;
  if (!first) throw new InvalidInputError("Choose at least one business", "businessIds");
  const rendered = renderIncidentEmail(chosen, { businessName: first.name, incident, ...options });
  return { template: chosen, recipients: businesses.length, subject: rendered.subject, text: rendered.text };
}

export interface CommunicationSent {
  /** Messages enqueued now. */
  sent: number;
  /** Businesses that already had this template for this incident (not sent twice). */
  alreadySent: number;
}

/**
 * Sends a template to each business through the email outbox and records it on the incident. The
 * outbox key is per incident, template and business, so pressing send twice (or two operators at
 * once) never emails a business twice.
 */
export async function sendIncidentCommunication(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps & { env: Pick<Env, "MARKETPLACE_TIME_ZONE"> },
  actor: Actor,
  input: { incidentId: string; template: string; businessIds: readonly string[]; signature?: string },
): Promise<CommunicationSent> {
  assertOperatorCan(actor, "operate");
  const chosen = requireTemplate(input.template);
  const options: CommunicationOptions = {
    timeZone: deps.env.MARKETPLACE_TIME_ZONE,
    ...(input.signature ? { signature: input.signature } : {}),
  };
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const incident = await lockedIncident(tx, input.incidentId);
    const businesses = await recipients(tx, input.businessIds);
    let sent = 0;
    for (const business of businesses) {
      const rendered = renderIncidentEmail(chosen, { businessName: business.name, incident, ...options });
      const message = await enqueueEmail(tx, {
        kind: `email.incident_${chosen}`,
        dedupKey: `incident:${incident.id}:${chosen}:${business.id}`,
        businessId: business.id,
        email: { to: business.email, ...rendered },
      });
      if (!message.created) continue;
      await tx.incidentCommunication.create({
        data: {
          incidentId: incident.id,
          template: chosen,
          businessId: business.id,
          outboxMessageId: message.id,
          sentById: actor.kind === "OPERATOR" ? actor.id : null,
        },
      });
      sent += 1;
    }
    await recordAudit(tx, actor, {
      action: "incident.communicate",
      targetType: "Incident",
      targetId: incident.id,
      after: { template: chosen, sent, alreadySent: businesses.length - sent },
    });
    // Delivered now rather than at the outbox's next run.
    if (sent > 0) deliverOutboxSoon(unit, `incident-${incident.id}-${chosen}-${deps.clock().getTime()}`);
    return { sent, alreadySent: businesses.length - sent };
  });
}

// ───────────────────────────── Post-incident summary ─────────────────────────────

function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const markdownLine = (text: string) => text.replace(/\r?\n/g, " ").replace(/([\\`*_[\]|<>#])/g, "\\$1");

/** The incident's record as Markdown, for the post-incident review. */
export async function incidentSummaryMarkdown(db: Db, incidentId: string, now = new Date()): Promise<string> {
  requireId("Incident", incidentId);
  const incident = await db.incident.findUnique({
    where: { id: incidentId },
    include: {
      alerts: { orderBy: { firstSeenAt: "asc" } },
      communications: { orderBy: { createdAt: "asc" }, include: { business: { select: { name: true } } } },
    },
  });
  if (!incident) throw new NotFoundError("Incident", incidentId);
  const timeline = await incidentTimeline(db, incidentId);
  const level = incidentLevels[incident.severity];
  const firstSeen = incident.alerts[0]?.firstSeenAt ?? incident.openedAt;
  const acknowledged = incident.alerts
    .map((alert) => alert.acknowledgedAt)
    .filter((at): at is Date => at !== null)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  const seconds = (at: Date | null | undefined) =>
    at ? Math.max(0, Math.round((at.getTime() - firstSeen.getTime()) / 1000)) : null;
  const lines = [
    `# Incident: ${markdownLine(incident.title)}`,
    "",
    `- **Severity:** ${incident.severity} (${level.meaning}; respond within ${duration(level.respondWithinMinutes * 60)})`,
    `- **Status:** ${incident.status}`,
    `- **First seen:** ${firstSeen.toISOString()}`,
    `- **Opened:** ${incident.openedAt.toISOString()}`,
    `- **Resolved:** ${incident.resolvedAt?.toISOString() ?? "not yet"}`,
    `- **Time to acknowledge:** ${duration(seconds(acknowledged))}`,
    `- **Time to resolve:** ${duration(seconds(incident.resolvedAt ?? (incident.status === "OPEN" ? null : now)))}`,
    "",
    "## Impact",
    "",
    incident.impact ? markdownLine(incident.impact) : "_Not recorded._",
    "",
    "## Alerts",
    "",
    ...incident.alerts.map(
      (alert) =>
        `- ${alert.severity} ${markdownLine(alert.title)} (\`${alert.ruleKey}\`, seen ${alert.count}×, ${alert.status.toLowerCase()})`,
    ),
    "",
    "## Timeline",
    "",
    ...timeline.map(
      (entry) => `- ${entry.at.toISOString()} — ${markdownLine(entry.actor)}: ${markdownLine(entry.message)}`,
    ),
    "",
    "## Root cause",
    "",
    incident.rootCause ? markdownLine(incident.rootCause) : "_Not recorded._",
    "",
    "## Follow-ups",
    "",
    ...(incident.followUps.length ? incident.followUps.map((item) => `- [ ] ${markdownLine(item)}`) : ["_None._"]),
    "",
    "## Communications",
    "",
    ...(incident.communications.length
      ? incident.communications.map(
          (communication) =>
            `- ${communication.createdAt.toISOString()} — ${communication.template} to ${markdownLine(communication.business.name)}`,
        )
      : ["_None sent._"]),
    "",
  ];
  return lines.join("\n");
}
