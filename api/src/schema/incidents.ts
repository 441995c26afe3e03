// Incidents (seeds/operational-playbooks-pos-saas.md, "Severity Levels"): every alert's level
// P0–P3 with its response times, incidents opened from red alerts of one cause, their record and
// timeline, templated messages to the affected businesses, and the post-incident summary as
// Markdown. Resolvers validate, call core (core/src/incidents.ts), and map typed domain errors.
import { ConflictError } from "@steward/core/errors";
import {
  type CommunicationPreview,
  type CommunicationSent,
  incidentLevels,
  incidentSeverityOf,
  incidentSummaryMarkdown,
  incidentTemplates,
  incidentTimeline,
  mappedIncidentSeverity,
  openIncident,
  previewIncidentCommunication,
  resolveIncident,
  responseTimes,
  sendIncidentCommunication,
  setAlertIncidentSeverity,
  type TimelineEntry,
  updateIncident,
} from "@steward/core/incidents";
import { z } from "zod";
import { builder } from "../builder.ts";
import { AlertNode } from "./alerts.ts";
import { commonMutationErrors } from "./errors.ts";
import { BusinessNode } from "./reviews.ts";

export const IncidentSeverityEnum = builder.enumType("IncidentSeverity", {
  values: {
    P0: { description: incidentLevels.P0.meaning },
    P1: { description: incidentLevels.P1.meaning },
    P2: { description: incidentLevels.P2.meaning },
    P3: { description: incidentLevels.P3.meaning },
  } as const,
});
const IncidentStatusEnum = builder.enumType("IncidentStatus", { values: ["OPEN", "RESOLVED"] as const });
const IncidentTemplateEnum = builder.enumType("IncidentTemplate", { values: incidentTemplates });

// ───────────────────────────── Alert fields ─────────────────────────────

/** Operators, and on-call tools reading alerts: the level and response times are theirs too. */
const onCallReaders = { viewer: true, anyToken: ["alerts:read", "alerts:write"] } as const;

builder.prismaObjectFields("Alert", (t) => ({
  incidentSeverity: t.field({
    type: IncidentSeverityEnum,
    description: "P0–P3: the operator's override, else what the rule maps to.",
    authScopes: onCallReaders,
    select: { ruleKey: true, severity: true, incidentSeverity: true },
    resolve: (alert) => incidentSeverityOf(alert),
  }),
  incidentSeverityOverridden: t.boolean({
    authScopes: onCallReaders,
    select: { incidentSeverity: true },
    resolve: (alert) => alert.incidentSeverity !== null,
  }),
  ruleIncidentSeverity: t.field({
    type: IncidentSeverityEnum,
    description: "What the rule maps to, before any override.",
    authScopes: onCallReaders,
    select: { ruleKey: true, severity: true },
    resolve: (alert) => mappedIncidentSeverity(alert.ruleKey, alert.severity),
  }),
  timeToAcknowledgeSeconds: t.int({
    nullable: true,
    description: "From first seen to acknowledged (or resolved without acknowledgement).",
    authScopes: onCallReaders,
    select: {
      ruleKey: true,
      severity: true,
      incidentSeverity: true,
      firstSeenAt: true,
      acknowledgedAt: true,
      resolvedAt: true,
    },
    resolve: (alert) => responseTimes(alert).timeToAcknowledgeSeconds,
  }),
  timeToResolveSeconds: t.int({
    nullable: true,
    authScopes: onCallReaders,
    select: {
      ruleKey: true,
      severity: true,
      incidentSeverity: true,
      firstSeenAt: true,
      acknowledgedAt: true,
      resolvedAt: true,
    },
    resolve: (alert) => responseTimes(alert).timeToResolveSeconds,
  }),
  respondBy: t.field({
    type: "DateTime",
    description: "When a response is due at the alert's level.",
    authScopes: onCallReaders,
    select: {
      ruleKey: true,
      severity: true,
      incidentSeverity: true,
      firstSeenAt: true,
      acknowledgedAt: true,
      resolvedAt: true,
    },
    resolve: (alert) => responseTimes(alert).respondBy,
  }),
  responseOverdue: t.boolean({
    authScopes: onCallReaders,
    select: {
      ruleKey: true,
      severity: true,
      incidentSeverity: true,
      firstSeenAt: true,
      acknowledgedAt: true,
      resolvedAt: true,
    },
    resolve: (alert) => responseTimes(alert).responseOverdue,
  }),
  incident: t.relation("incident", { nullable: true, authScopes: { viewer: true } }),
}));

// ───────────────────────────── Types ─────────────────────────────

const TimelineSourceEnum = builder.enumType("IncidentTimelineSource", { values: ["ALERT", "AUDIT"] as const });

const TimelineEntryType = builder.objectRef<TimelineEntry>("IncidentTimelineEntry").implement({
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    source: t.field({ type: TimelineSourceEnum, resolve: (entry) => entry.source }),
    actor: t.exposeString("actor"),
    message: t.exposeString("message"),
  }),
});

builder.prismaObject("IncidentCommunication", {
  description: "One templated message sent to one business about the incident.",
  authScopes: { viewer: true },
  fields: (t) => ({
    id: t.exposeID("id"),
    template: t.field({
      type: IncidentTemplateEnum,
      select: { template: true },
      // Written only by core from the same list; an unknown value would be a bug, so it fails loudly.
      resolve: (row) => {
        const template = incidentTemplates.find((known) => known === row.template);
        if (!template) throw new Error(`Unknown incident template ${row.template}`);
        return template;
      },
    }),
    business: t.relation("business"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

export const IncidentNode = builder.prismaNode("Incident", {
  id: { field: "id" },
  authScopes: { viewer: true },
  fields: (t) => ({
    title: t.exposeString("title"),
    severity: t.expose("severity", { type: IncidentSeverityEnum }),
    status: t.expose("status", { type: IncidentStatusEnum }),
    impact: t.exposeString("impact"),
    rootCause: t.exposeString("rootCause"),
    followUps: t.exposeStringList("followUps"),
    openedAt: t.expose("openedAt", { type: "DateTime" }),
    resolvedAt: t.expose("resolvedAt", { type: "DateTime", nullable: true }),
    respondWithinMinutes: t.int({
      select: { severity: true },
      resolve: (incident) => incidentLevels[incident.severity].respondWithinMinutes,
    }),
    notifyCustomersWithinMinutes: t.int({
      nullable: true,
      description: "How soon affected businesses must be told at this level (null: no need).",
      select: { severity: true },
      resolve: (incident) => incidentLevels[incident.severity].notifyCustomersWithinMinutes,
    }),
    alerts: t.relation("alerts", { query: { orderBy: [{ firstSeenAt: "asc" }, { id: "asc" }] } }),
    communications: t.relation("communications", { query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } }),
    timeline: t.field({
      type: [TimelineEntryType],
      description: "The alerts' timelines and the audit log, oldest first.",
      select: { id: true },
      resolve: (incident, _args, { db }) => incidentTimeline(db, incident.id),
    }),
    summaryMarkdown: t.string({
      description: "The post-incident summary, to export.",
      select: { id: true },
      resolve: (incident, _args, { db }) => incidentSummaryMarkdown(db, incident.id),
    }),
  }),
});

const PreviewType = builder.objectRef<CommunicationPreview>("IncidentCommunicationPreview").implement({
  fields: (t) => ({
    template: t.field({ type: IncidentTemplateEnum, resolve: (preview) => preview.template }),
    recipients: t.exposeInt("recipients"),
    subject: t.exposeString("subject"),
    text: t.exposeString("text"),
  }),
});

const SentType = builder.objectRef<CommunicationSent>("IncidentCommunicationSent").implement({
  fields: (t) => ({
    sent: t.exposeInt("sent"),
    alreadySent: t.exposeInt("alreadySent", {
      description: "Businesses that had this message already (not sent twice).",
    }),
  }),
});

// ───────────────────────────── Queries ─────────────────────────────

builder.queryFields((t) => ({
  incidents: t.prismaConnection({
    type: "Incident",
    cursor: "id",
    maxSize: 100,
    description: "Open incidents first, then newest.",
    authScopes: { viewer: true },
    args: { status: t.arg({ type: IncidentStatusEnum, required: false }) },
    resolve: (query, _root, args, { db }) =>
      db.incident.findMany({
        ...query,
        where: args.status ? { status: args.status } : {},
        orderBy: [{ status: "asc" }, { openedAt: "desc" }, { id: "desc" }],
      }),
  }),
  incident: t.prismaField({
    type: "Incident",
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.globalID({ for: IncidentNode }) },
    resolve: (query, _root, args, { db }) => db.incident.findUnique({ ...query, where: { id: args.id.id } }),
  }),
  incidentCommunicationPreview: t.field({
    type: PreviewType,
    description: "The message as it will be sent (to the first business), and how many it goes to.",
    authScopes: { viewer: true },
    errors: { types: commonMutationErrors },
    args: {
      incidentId: t.arg.globalID({ for: IncidentNode }),
      template: t.arg({ type: IncidentTemplateEnum }),
      businessIds: t.arg.globalIDList({ for: BusinessNode }),
    },
    resolve: (_root, args, { db, env }) =>
      previewIncidentCommunication(
        db,
        args.incidentId.id,
        args.template,
        args.businessIds.map((id) => id.id),
        { timeZone: env.MARKETPLACE_TIME_ZONE },
      ),
  }),
}));

// ───────────────────────────── Mutations ─────────────────────────────

const incidentErrors = [...commonMutationErrors, ConflictError];
const text = (max: number) => z.string().max(max).nullish();

builder.mutationFields((t) => ({
  setAlertIncidentSeverity: t.field({
    type: AlertNode,
    description: "Override the alert's P0–P3 level (null: back to the rule's).",
    authScopes: { operator: true },
    errors: { types: incidentErrors },
    args: {
      id: t.arg.globalID({ for: AlertNode }),
      severity: t.arg({ type: IncidentSeverityEnum, required: false }),
    },
    resolve: (_root, args, { deps, actor }) =>
      setAlertIncidentSeverity(deps, actor, { alertId: args.id.id, severity: args.severity ?? null }),
  }),
  openIncident: t.field({
    type: IncidentNode,
    description: "Open an incident from open alerts of one cause (at least one red).",
    authScopes: { operator: true },
    errors: { types: incidentErrors },
    args: {
      alertIds: t.arg.globalIDList({ for: AlertNode }),
      title: t.arg.string({ required: false, validate: text(200) }),
      severity: t.arg({ type: IncidentSeverityEnum, required: false }),
      impact: t.arg.string({ required: false, validate: text(4000) }),
    },
    resolve: (_root, args, { deps, actor }) =>
      openIncident(deps, actor, {
        alertIds: args.alertIds.map((id) => id.id),
        title: args.title ?? null,
        severity: args.severity ?? null,
        impact: args.impact ?? null,
      }),
  }),
  updateIncident: t.field({
    type: IncidentNode,
    description: "Edit the record; only the given fields change.",
    authScopes: { operator: true },
    errors: { types: incidentErrors },
    args: {
      id: t.arg.globalID({ for: IncidentNode }),
      title: t.arg.string({ required: false, validate: text(200) }),
      severity: t.arg({ type: IncidentSeverityEnum, required: false }),
      impact: t.arg.string({ required: false, validate: text(4000) }),
      rootCause: t.arg.string({ required: false, validate: text(4000) }),
      followUps: t.arg.stringList({ required: false }),
    },
    resolve: (_root, args, { deps, actor }) =>
      updateIncident(deps, actor, {
        incidentId: args.id.id,
        title: args.title ?? null,
        severity: args.severity ?? null,
        impact: args.impact ?? null,
        rootCause: args.rootCause ?? null,
        followUps: args.followUps ?? null,
      }),
  }),
  resolveIncident: t.field({
    type: IncidentNode,
    authScopes: { operator: true },
    errors: { types: incidentErrors },
    args: { id: t.arg.globalID({ for: IncidentNode }) },
    resolve: (_root, args, { deps, actor }) => resolveIncident(deps, actor, { incidentId: args.id.id }),
  }),
  sendIncidentCommunication: t.field({
    type: SentType,
    description: "Email a template to each business through the outbox; a business never gets the same one twice.",
    authScopes: { operator: true },
    errors: { types: incidentErrors },
    args: {
      incidentId: t.arg.globalID({ for: IncidentNode }),
      template: t.arg({ type: IncidentTemplateEnum }),
      businessIds: t.arg.globalIDList({ for: BusinessNode }),
    },
    resolve: (_root, args, context) =>
      sendIncidentCommunication(context.deps, context.actor, {
        incidentId: args.incidentId.id,
        template: args.template,
        businessIds: args.businessIds.map((id) => id.id),
      }),
  }),
}));
