// Alerts (deduplicated by fingerprint, with a timeline and a delivery log), the operator's
// lifecycle actions, notification channels (ADMIN; secrets never returned) and the live
// `alertChanged` subscription. Resolvers validate, call core, and map typed domain errors.
import {
  acknowledgeAlert,
  AlertResolvedError,
  conditionStillHolds,
  MAX_SILENCE_MS,
  resolveAlert,
  silenceAlert,
} from "@steward/core/alerts";
import type { AlertChangedEvent } from "@steward/core/ports/events";
import { ConflictError } from "@steward/core/errors";
import {
  type ChannelTestResult,
  type ChannelView,
  listNotificationChannels,
  testNotificationChannel,
  upsertNotificationChannel,
} from "@steward/core/notificationChannels";
import type { Prisma } from "@steward/db/client";
import { z } from "zod";
import { builder } from "../builder.ts";
import { ActorKindEnum } from "./audit.ts";
import { commonMutationErrors, ErrorInterface } from "./errors.ts";
import { SeverityEnum } from "./severity.ts";

export const AlertStatusEnum = builder.enumType("AlertStatus", {
  values: ["FIRING", "ACKNOWLEDGED", "RESOLVED"] as const,
});
const AlertEventKindEnum = builder.enumType("AlertEventKind", {
  values: ["FIRED", "UPDATED", "ACKNOWLEDGED", "SILENCED", "RESOLVED", "REOPENED", "NOTIFIED", "ACTION_TAKEN"] as const,
});
const ChannelKindEnum = builder.enumType("ChannelKind", {
  values: ["SLACK", "EMAIL", "PAGERDUTY", "WEBHOOK"] as const,
});
const DeliveryStatusEnum = builder.enumType("DeliveryStatus", {
  values: ["PENDING", "SENT", "FAILED", "DEAD"] as const,
  description: "FAILED is retried with backoff; DEAD gave up (last attempt or a permanent refusal).",
});

// ───────────────────────────── Errors ─────────────────────────────

builder.objectType(AlertResolvedError, {
  name: "AlertResolvedError",
  description: "The alert is already resolved; it reopens by itself if its condition returns.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ resolvedAt: t.expose("resolvedAt", { type: "DateTime" }) }),
});

// ───────────────────────────── Types ─────────────────────────────

/** Operators, and on-call tools with an alerts token (alerts:write reads what it acts on). */
const alertReaders = { $any: { viewer: true, anyToken: ["alerts:read", "alerts:write"] } } as const;

builder.prismaObject("AlertEvent", {
  description: "One entry of an alert's timeline.",
  fields: (t) => ({
    id: t.exposeID("id"),
    kind: t.expose("kind", { type: AlertEventKindEnum }),
    actorKind: t.expose("actorKind", { type: ActorKindEnum }),
    message: t.exposeString("message"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.prismaObject("DeliveryAttempt", {
  fields: (t) => ({
    attempt: t.exposeInt("attempt"),
    ok: t.exposeBoolean("ok"),
    responseCode: t.exposeInt("responseCode", { nullable: true, description: "HTTP status or SMTP reply code." }),
    error: t.exposeString("error", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const payloadEvent = (payload: unknown): string => {
  const event = (payload as { event?: unknown } | null)?.event;
  return typeof event === "string" ? event : "unknown";
};

builder.prismaObject("OutboxMessage", {
  name: "NotificationDelivery",
  description: "One notification to one channel, delivered through the outbox.",
  fields: (t) => ({
    id: t.exposeID("id"),
    event: t.string({
      description: "trigger, acknowledge or resolve.",
      select: { payload: true },
      resolve: (message) => payloadEvent(message.payload),
    }),
    channelName: t.string({
      select: { channel: { select: { name: true } } },
      resolve: (message) => message.channel?.name ?? "(removed channel)",
    }),
    channelKind: t.field({
      type: ChannelKindEnum,
      nullable: true,
      select: { channel: { select: { kind: true } } },
      resolve: (message) => message.channel?.kind ?? null,
    }),
    status: t.expose("status", { type: DeliveryStatusEnum }),
    attempts: t.exposeInt("attempts"),
    lastError: t.exposeString("lastError", { nullable: true }),
    nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime" }),
    sentAt: t.expose("sentAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    attemptLog: t.relation("attemptsLog", { query: { orderBy: { attempt: "asc" } } }),
  }),
});

export const AlertNode = builder.prismaNode("Alert", {
  id: { field: "id" },
  authScopes: alertReaders,
  fields: (t) => ({
    fingerprint: t.exposeString("fingerprint", {
      description: "Stable identity of the condition (PagerDuty dedup_key).",
    }),
    ruleKey: t.exposeString("ruleKey"),
    severity: t.expose("severity", { type: SeverityEnum }),
    status: t.expose("status", { type: AlertStatusEnum }),
    title: t.exposeString("title"),
    detail: t.exposeString("detail"),
    labels: t.expose("labels", { type: "JSON" }),
    count: t.exposeInt("count", { description: "How many times the condition was seen." }),
    firstSeenAt: t.expose("firstSeenAt", { type: "DateTime" }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime" }),
    acknowledgedAt: t.expose("acknowledgedAt", { type: "DateTime", nullable: true }),
    acknowledgedBy: t.relation("acknowledgedBy", { nullable: true }),
    silencedUntil: t.expose("silencedUntil", {
      type: "DateTime",
      nullable: true,
      description: "Notifications stop until then; a reminder follows if still open.",
    }),
    silenced: t.boolean({
      select: { silencedUntil: true },
      resolve: (alert) => alert.silencedUntil !== null && alert.silencedUntil > new Date(),
    }),
    conditionStillHolds: t.boolean({
      description:
        "Open and seen again in the last 3 minutes: resolving would reopen it at the next evaluation (acknowledge or silence instead).",
      select: { status: true, count: true, lastSeenAt: true },
      resolve: (alert) => conditionStillHolds(alert),
    }),
    resolvedAt: t.expose("resolvedAt", { type: "DateTime", nullable: true }),
    resolutionNote: t.exposeString("resolutionNote", { nullable: true }),
    timeline: t.relation("events", { query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } }),
    deliveries: t.relation("outbox", { query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } }),
  }),
});

const NotificationChannelType = builder.objectRef<ChannelView>("NotificationChannel").implement({
  description: "Where notifications go. Secrets (webhook URLs, routing keys, HMAC secrets) are never returned.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    kind: t.field({ type: ChannelKindEnum, resolve: (channel) => channel.kind }),
    severities: t.field({ type: [SeverityEnum], resolve: (channel) => channel.severities }),
    enabled: t.exposeBoolean("enabled"),
    target: t.exposeString("target", { description: "Where it sends, without secrets." }),
    hasSecret: t.exposeBoolean("hasSecret"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const ChannelTestResultType = builder.objectRef<ChannelTestResult>("ChannelTestResult").implement({
  fields: (t) => ({
    ok: t.exposeBoolean("ok"),
    responseCode: t.exposeInt("responseCode", { nullable: true }),
    message: t.exposeString("message"),
  }),
});

// ───────────────────────────── Queries ─────────────────────────────

const AlertFilter = builder.inputType("AlertFilter", {
  fields: (t) => ({
    status: t.field({ type: [AlertStatusEnum], required: false, description: "Default: open (FIRING, ACKNOWLEDGED)." }),
    severity: t.field({ type: [SeverityEnum], required: false }),
  }),
});

builder.queryFields((t) => ({
  alerts: t.prismaConnection({
    type: "Alert",
    cursor: "id",
    maxSize: 200,
    description: "Alerts by severity (red first), then most recently seen. Default: open ones.",
    authScopes: alertReaders,
    args: { filter: t.arg({ type: AlertFilter, required: false }) },
    resolve: (query, _root, args, { db }) => {
      const status = args.filter?.status?.length ? args.filter.status : (["FIRING", "ACKNOWLEDGED"] as const);
      const where: Prisma.AlertWhereInput = {
        status: { in: [...status] },
        ...(args.filter?.severity?.length ? { severity: { in: [...args.filter.severity] } } : {}),
      };
      return db.alert.findMany({
        ...query,
        where,
        orderBy: [{ severity: "desc" }, { lastSeenAt: "desc" }, { id: "desc" }],
      });
    },
  }),
  alert: t.prismaField({
    type: "Alert",
    nullable: true,
    authScopes: alertReaders,
    args: { id: t.arg.globalID({ for: AlertNode }) },
    resolve: (query, _root, args, { db }) => db.alert.findUnique({ ...query, where: { id: args.id.id } }),
  }),
  notificationChannels: t.field({
    type: [NotificationChannelType],
    authScopes: { admin: true },
    resolve: (_root, _args, { db }) => listNotificationChannels(db),
  }),
}));

// ───────────────────────────── Mutations ─────────────────────────────

const alertErrors = [...commonMutationErrors, ConflictError, AlertResolvedError];

builder.mutationFields((t) => ({
  acknowledgeAlert: t.field({
    type: AlertNode,
    description: "Take the alert: it stays open, PagerDuty stops escalating.",
    authScopes: { $any: { operator: true, token: "alerts:write" } },
    errors: { types: alertErrors },
    args: { id: t.arg.globalID({ for: AlertNode }) },
    resolve: (_root, args, context) => acknowledgeAlert(context.deps, context.actor, args.id.id),
  }),
  silenceAlert: t.field({
    type: AlertNode,
    description: `Stop notifications until \`until\` (at most ${MAX_SILENCE_MS / 86_400_000} days); the alert still records, and a reminder follows if it is still open.`,
    authScopes: { operator: true },
    errors: { types: alertErrors },
    args: {
      id: t.arg.globalID({ for: AlertNode }),
      until: t.arg({ type: "DateTime" }),
      reason: t.arg.string({ required: false, validate: z.string().trim().max(500).nullish() }),
    },
    resolve: (_root, args, context) =>
      silenceAlert(context.deps, context.actor, args.id.id, args.until, args.reason ?? null),
  }),
  resolveAlert: t.field({
    type: AlertNode,
    description: "Close the alert with a note (what was done). It reopens if the condition returns.",
    authScopes: { $any: { operator: true, token: "alerts:write" } },
    errors: { types: alertErrors },
    args: {
      id: t.arg.globalID({ for: AlertNode }),
      note: t.arg.string({ validate: z.string().trim().min(3).max(2000) }),
    },
    resolve: (_root, args, context) => resolveAlert(context.deps, context.actor, args.id.id, args.note),
  }),
  upsertNotificationChannel: t.field({
    type: NotificationChannelType,
    description:
      "Create a channel, or update it (by id, else by name). Leave `secret`/`url` out to keep the stored one.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: {
      id: t.arg.id({ required: false }),
      name: t.arg.string({ validate: z.string().trim().min(2).max(80) }),
      kind: t.arg({ type: ChannelKindEnum }),
      severities: t.arg({ type: [SeverityEnum] }),
      enabled: t.arg.boolean({ required: false }),
      url: t.arg.string({
        required: false,
        description:
          "Slack: the incoming-webhook URL. PagerDuty: the Events API URL (default PagerDuty's). Webhook: the endpoint.",
        validate: z.string().trim().max(2000).nullish(),
      }),
      secret: t.arg.string({
        required: false,
        description: "PagerDuty: the routing key. Webhook: the HMAC secret (16+ characters).",
        validate: z.string().max(256).nullish(),
      }),
      recipients: t.arg.stringList({ required: false, description: "Email: who receives alert emails." }),
    },
    resolve: (_root, args, { deps, actor }) =>
      upsertNotificationChannel(deps, actor, {
        id: args.id === null || args.id === undefined ? null : String(args.id),
        name: args.name,
        kind: args.kind,
        severities: args.severities,
        enabled: args.enabled ?? null,
        url: args.url ?? null,
        secret: args.secret ?? null,
        recipients: args.recipients ?? null,
      }),
  }),
  testNotificationChannel: t.field({
    type: ChannelTestResultType,
    description: "Send a test message now. A failing channel is reported in the result (ok: false), not as an error.",
    authScopes: { admin: true },
    errors: { types: commonMutationErrors },
    args: { id: t.arg.id() },
    resolve: (_root, args, { deps, actor }) => testNotificationChannel(deps, actor, { channelId: String(args.id) }),
  }),
}));

// ───────────────────────────── Subscriptions ─────────────────────────────

// Every subscriber of this process receives the same event object: the alert is read once per
// event and selection, not once per subscriber (2,000 dashboards would mean 2,000 queries).
const alertReads = new WeakMap<object, Map<string, Promise<unknown>>>();

function readOncePerEvent<T>(event: object, query: unknown, read: () => Promise<T>): Promise<T> {
  let reads = alertReads.get(event);
  if (!reads) {
    reads = new Map();
    alertReads.set(event, reads);
  }
  const key = JSON.stringify(query);
  const existing = reads.get(key) as Promise<T> | undefined;
  if (existing) return existing;
  const pending = read();
  reads.set(key, pending);
  return pending;
}

builder.subscriptionFields((t) => ({
  alertChanged: t.prismaField({
    type: "Alert",
    description:
      "An alert opened, changed, was acted on, resolved, or its delivery log changed (from any API instance or worker).",
    authScopes: alertReaders,
    subscribe: (_root, _args, { events }) => events.subscribe("alertChanged"),
    resolve: (query, event: AlertChangedEvent, _args, { db }) =>
      readOncePerEvent(event, query, () => db.alert.findUniqueOrThrow({ ...query, where: { id: event.alertId } })),
  }),
}));
