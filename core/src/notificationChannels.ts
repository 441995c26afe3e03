// Notification channels, managed by an ADMIN: where alert notifications go (Slack incoming
// webhook, email over SMTP, PagerDuty Events API v2, a signed ticket webhook) and which
// severities each takes. Credentials (the Slack webhook URL, the PagerDuty routing key, the HMAC
// secret) are kept in `secret`, encrypted (channelSecrets.ts), and never leave core: callers get
// `hasSecret` and a redacted URL.
import type { ChannelKind, Db, NotificationChannel, Severity } from "@steward/db/client";
import { z } from "zod";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { ChannelSecretUnreadable, type SecretCipher } from "./channelSecrets.ts";
import type { MailSender } from "./ports/mail.ts";
import { InvalidInputError, NotFoundError } from "./errors.ts";
import { sendAlertEmail } from "./notifications/email.ts";
import { DeliveryFailure, type NotificationPayload, type SendOutcome } from "./notifications/http.ts";
import { PAGERDUTY_EVENTS_URL, sendPagerDuty } from "./notifications/pagerduty.ts";
import { sendSlack } from "./notifications/slack.ts";
import { sendWebhook } from "./notifications/webhook.ts";
import type { CoreDeps } from "./deps.ts";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * A channel URL must be https; plain http only to this machine (the local sandbox receivers).
 * No credentials in the URL's user part (they would be shown wherever the URL is).
 */
export function validateChannelUrl(raw: string, field = "url"): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidInputError(`${field} is not a valid URL`, field);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback))
    throw new InvalidInputError(`${field} must use https (http only for 127.0.0.1 or localhost)`, field);
  if (url.username || url.password) throw new InvalidInputError(`${field} must not contain credentials`, field);
  return url;
}

// Stored non-secret settings per kind. `url` of a Slack channel is only its origin (the path is the secret).
const urlConfig = z.object({ url: z.string() });
const emailConfig = z.object({ recipients: z.array(z.string()).min(1) });

export interface ChannelInput {
  /** Update this channel; omitted: create (or update the one with this name). */
  id?: string | null;
  name: string;
  kind: ChannelKind;
  severities: readonly Severity[];
  enabled?: boolean | null;
  /** Slack: the incoming-webhook URL (secret). PagerDuty: the Events API URL (default PagerDuty's). Webhook: the endpoint. */
  url?: string | null;
  /** PagerDuty: the routing key. Webhook: the HMAC secret. Slack: not used (the URL is the secret). */
  secret?: string | null;
  /** Email: who receives alert emails. */
  recipients?: readonly string[] | null;
}

/** A channel as shown to clients: never the secret. */
export interface ChannelView {
  id: string;
  name: string;
  kind: ChannelKind;
  severities: Severity[];
  enabled: boolean;
  /** Where it sends, without secrets (a Slack URL shows its origin only). */
  target: string;
  hasSecret: boolean;
  createdAt: Date;
}

const emailAddress = z.email();
const uuid = z.uuid();

export function channelView(channel: NotificationChannel): ChannelView {
  const config = channel.config as Record<string, unknown>;
  const target =
    channel.kind === "EMAIL"
      ? (emailConfig.safeParse(config).data?.recipients.join(", ") ?? "")
      : (urlConfig.safeParse(config).data?.url ?? "");
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    severities: channel.severities,
    enabled: channel.enabled,
    target,
    hasSecret: channel.secret !== null && channel.secret !== "",
    createdAt: channel.createdAt,
  };
}

interface StoredSettings {
  config: Record<string, unknown>;
  /** undefined: keep the stored secret. */
  secret: string | null | undefined;
}

function settingsFor(input: ChannelInput, existing: NotificationChannel | null): StoredSettings {
  const sameKind = existing?.kind === input.kind;
  const url = input.url?.trim() || null;
  const secret = input.secret?.trim() || null;
  switch (input.kind) {
    case "SLACK": {
      if (!url) {
        if (sameKind) return { config: existing.config as Record<string, unknown>, secret: undefined };
        throw new InvalidInputError("A Slack channel needs its incoming-webhook URL", "url");
      }
      const parsed = validateChannelUrl(url);
      if (parsed.pathname.length <= 1) throw new InvalidInputError("The Slack webhook URL has no path", "url");
      return { config: { url: `${parsed.origin}/…` }, secret: parsed.toString() };
    }
    case "PAGERDUTY":
    case "WEBHOOK": {
      const target = url
        ? validateChannelUrl(url).toString()
        : input.kind === "PAGERDUTY"
          ? PAGERDUTY_EVENTS_URL
          : null;
      if (!target) throw new InvalidInputError("A webhook channel needs its URL", "url");
      const minSecret = input.kind === "PAGERDUTY" ? 1 : 16;
      const label = input.kind === "PAGERDUTY" ? "routing key" : "HMAC secret";
      if (secret !== null && (secret.length < minSecret || secret.length > 256))
        throw new InvalidInputError(`The ${label} must be ${minSecret} to 256 characters`, "secret");
      if (secret === null && !(sameKind && existing.secret))
        throw new InvalidInputError(`A ${input.kind.toLowerCase()} channel needs its ${label}`, "secret");
      return { config: { url: target }, secret: secret ?? undefined };
    }
    case "EMAIL": {
      const recipients = (input.recipients ?? []).map((address) => address.trim()).filter(Boolean);
      if (recipients.length === 0)
        throw new InvalidInputError("An email channel needs at least one recipient", "recipients");
      if (recipients.length > 20) throw new InvalidInputError("At most 20 recipients", "recipients");
      for (const address of recipients)
        if (!emailAddress.safeParse(address).success)
          throw new InvalidInputError(`${address} is not an email address`, "recipients");
      return { config: { recipients }, secret: null };
    }
  }
}

export async function upsertNotificationChannel(
  deps: Pick<CoreDeps, "db" | "secrets">,
  actor: Actor,
  input: ChannelInput,
): Promise<ChannelView> {
  const { db, secrets } = deps;
  const name = input.name.trim();
  if (name.length < 2 || name.length > 80) throw new InvalidInputError("The name must be 2 to 80 characters", "name");
  const severities = [...new Set(input.severities)];
  if (severities.length === 0) throw new InvalidInputError("Pick at least one severity", "severities");
  if (input.id && !uuid.safeParse(input.id).success) throw new NotFoundError("NotificationChannel", input.id);
  return db.$transaction(async (tx) => {
    const existing = input.id
      ? await tx.notificationChannel.findUnique({ where: { id: input.id } })
      : await tx.notificationChannel.findUnique({ where: { name } });
    if (input.id && !existing) throw new NotFoundError("NotificationChannel", input.id);
    if (existing && input.id && existing.name !== name) {
      const clash = await tx.notificationChannel.findUnique({ where: { name } });
      if (clash) throw new InvalidInputError(`Another channel is named ${name}`, "name");
    }
    const settings = settingsFor(input, existing);
    const data = {
      name,
      kind: input.kind,
      severities,
      enabled: input.enabled ?? existing?.enabled ?? true,
      config: settings.config as object,
      ...(settings.secret !== undefined ? { secret: settings.secret && secrets.seal(settings.secret) } : {}),
    };
    const saved = existing
      ? await tx.notificationChannel.update({ where: { id: existing.id }, data })
      : await tx.notificationChannel.create({ data });
    const view = channelView(saved);
    await recordAudit(tx, actor, {
      action: existing ? "notificationChannel.update" : "notificationChannel.create",
      targetType: "NotificationChannel",
      targetId: saved.id,
      ...(existing ? { before: auditable(channelView(existing)) } : {}),
      after: { ...auditable(view), secretChanged: settings.secret !== undefined && settings.secret !== null },
    });
    return view;
  });
}

function auditable(view: ChannelView) {
  return { name: view.name, kind: view.kind, severities: view.severities, enabled: view.enabled, target: view.target };
}

export async function listNotificationChannels(db: Db): Promise<ChannelView[]> {
  const channels = await db.notificationChannel.findMany({ orderBy: { name: "asc" } });
  return channels.map(channelView);
}

export interface ChannelSenders {
  email: MailSender;
  /** Opens the stored channel secrets. */
  secrets: SecretCipher;
}

/** Sends one notification to one channel now. Throws DeliveryFailure when the receiver does not take it. */
export async function sendToChannel(
  senders: ChannelSenders,
  channel: Pick<NotificationChannel, "kind" | "config" | "secret">,
  deliveryId: string,
  notification: NotificationPayload,
): Promise<SendOutcome> {
  const config = channel.config as Record<string, unknown>;
  const misconfigured = (what: string) => new DeliveryFailure(`Channel misconfigured: ${what}`, null, true);
  let secret: string | null;
  try {
    secret = channel.secret ? senders.secrets.open(channel.secret) : null;
  } catch (error) {
    // Permanent: retrying under the same key cannot succeed.
    if (error instanceof ChannelSecretUnreadable) throw new DeliveryFailure(error.message, null, true);
    throw error;
  }
  switch (channel.kind) {
    case "SLACK":
      if (!secret) throw misconfigured("no webhook URL");
      return sendSlack(secret, notification);
    case "PAGERDUTY": {
      const url = urlConfig.safeParse(config).data?.url;
      if (!url || !secret) throw misconfigured("no events URL or routing key");
      return sendPagerDuty(url, secret, notification);
    }
    case "WEBHOOK": {
      const url = urlConfig.safeParse(config).data?.url;
      if (!url || !secret) throw misconfigured("no URL or HMAC secret");
      return sendWebhook(url, secret, deliveryId, notification);
    }
    case "EMAIL": {
      const recipients = emailConfig.safeParse(config).data?.recipients;
      if (!recipients) throw misconfigured("no recipients");
      return sendAlertEmail(senders.email, deliveryId, recipients, notification);
    }
  }
}

export interface ChannelTestResult {
  ok: boolean;
  responseCode: number | null;
  /** The receiver's answer or the error, for the admin to read. */
  message: string;
}

/** Sends a test message now (not through the outbox). A failure is a result, not an error. */
export async function testNotificationChannel(
  deps: Pick<CoreDeps, "db" | "mail" | "secrets" | "clock">,
  actor: Actor,
  input: { channelId: string },
): Promise<ChannelTestResult> {
  const { db } = deps;
  const { channelId } = input;
  const now = deps.clock();
  const senders: ChannelSenders = { email: deps.mail, secrets: deps.secrets };
  if (!uuid.safeParse(channelId).success) throw new NotFoundError("NotificationChannel", channelId);
  const channel = await db.notificationChannel.findUnique({ where: { id: channelId } });
  if (!channel) throw new NotFoundError("NotificationChannel", channelId);
  // A resolve for PagerDuty: a test must not page anyone.
  const notification: NotificationPayload = {
    dedupKey: `steward-test:${channel.id}`,
    severity: channel.severities[0] ?? "GREEN",
    event: channel.kind === "PAGERDUTY" ? "resolve" : "trigger",
    title: `Test notification for ${channel.name}`,
    text: `Sent by ${actor.kind === "OPERATOR" ? actor.email : "Steward"} at ${now.toISOString()} to check this channel.`,
    source: "steward.channel-test",
    fields: { channel: channel.name },
  };
  let result: ChannelTestResult;
  try {
    const outcome = await sendToChannel(senders, channel, `test-${channel.id}-${now.getTime()}`, notification);
    result = { ok: true, responseCode: outcome.responseCode, message: outcome.response || "accepted" };
  } catch (error) {
    const failure = error instanceof DeliveryFailure ? error : null;
    result = {
      ok: false,
      responseCode: failure?.responseCode ?? null,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  await recordAudit(db, actor, {
    action: "notificationChannel.test",
    targetType: "NotificationChannel",
    targetId: channel.id,
    after: { ok: result.ok, responseCode: result.responseCode },
    ...(result.ok ? {} : { reason: result.message.slice(0, 500) }),
  });
  return result;
}
