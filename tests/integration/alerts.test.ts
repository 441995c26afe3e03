// Alerts against real PostgreSQL, Redis-free: fingerprint dedup, auto-resolve, reopen, the
// operator lifecycle, silences with a reminder, inhibition; and notifications routed by severity
// through the outbox to real receivers (the notify sandbox over HTTP, the SMTP sandbox over SMTP),
// each payload as that receiver expects it, with retries, backoff and a dead state.
import { randomBytes } from "node:crypto";
import type { Actor } from "@steward/core/actor";
import {
  acknowledgeAlert,
  type AlertCondition,
  AlertResolvedError,
  clearAlert,
  raiseAlert,
  remindSilencedAlerts,
  resolveAlert,
  silenceAlert,
} from "@steward/core/alerts";
import { channelSecretCipher } from "@steward/core/channelSecrets";
import { createMailSender } from "@steward/core/adapters/nodemailer";
import type { EventPublisher } from "@steward/core/ports/events";
import type { MailSender } from "@steward/core/ports/mail";
import { InvalidInputError, ConflictError } from "@steward/core/errors";
import { testNotificationChannel, upsertNotificationChannel } from "@steward/core/notificationChannels";
import { deliverDueNotifications } from "@steward/core/notifications/deliver";
import { GROUP_WINDOW_MS } from "@steward/core/notifications/grouping";
import { webhookSignature } from "@steward/core/notifications/webhook";
import { backoffMs } from "@steward/core/outbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startNotifySandbox, type NotifySandbox, verifySignature } from "../../sandbox/src/notify/server.ts";
import { startSmtpSandbox, type SmtpSandbox } from "../../sandbox/src/smtp/server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { quietDeps } from "../support/deps.ts";
import { testEnv } from "../support/env.ts";
import { createOperator, testRuleKey } from "../support/fixtures.ts";

const WEBHOOK_SECRET = "ticket-webhook-secret-0123456789";
const ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF";

let database: TestDatabase;
let receivers: NotifySandbox;
let smtp: SmtpSandbox;
let email: MailSender;
let operator: Actor;
let admin: Actor;
let sequence = 0;
// The development key, as the worker uses it in tests.
const secrets = channelSecretCipher({});

const condition = (overrides: Partial<AlertCondition> = {}): AlertCondition => {
  const n = ++sequence;
  return {
    fingerprint: `test.rule:${n}`,
    ruleKey: testRuleKey("test.rule"),
    severity: "RED",
    title: `Test condition ${n}`,
    detail: `Detail of condition ${n}`,
    ...overrides,
  };
};

const deliver = (now?: Date, maxAttempts = 3) =>
  deliverDueNotifications(
    { db: database.db, mail: email, secrets },
    { maxAttempts, ...(now ? { now: () => now } : {}) },
  );

const timeline = async (alertId: string) =>
  (await database.db.alertEvent.findMany({ where: { alertId }, orderBy: { id: "asc" } })).map((event) => event.kind);

type PagerDutyBody = { event_action: string; dedup_key: string; payload: { summary: string } };

const alertByFingerprint = (fingerprint: string) => database.db.alert.findUniqueOrThrow({ where: { fingerprint } });

beforeAll(async () => {
  database = await createTestDatabase();
  receivers = await startNotifySandbox({ webhookSecret: WEBHOOK_SECRET });
  smtp = await startSmtpSandbox({ port: 0 });
  email = createMailSender(testEnv(database.url, { SMTP_HOST: smtp.host, SMTP_PORT: String(smtp.port) }));
  const adminRow = await createOperator(database.db, "ADMIN", "ada@test.example");
  const operatorRow = await createOperator(database.db, "OPERATOR", "otto@test.example");
  admin = { kind: "OPERATOR", id: adminRow.id, email: adminRow.email, name: adminRow.name, role: "ADMIN" };
  operator = {
    kind: "OPERATOR",
    id: operatorRow.id,
    email: operatorRow.email,
    name: operatorRow.name,
    role: "OPERATOR",
  };
  // PRODUCT.md §5 routing: green → Slack; yellow → email; red → PagerDuty + ticket webhook + Slack.
  await upsertNotificationChannel({ db: database.db, secrets }, admin, {
    name: "Slack #ops",
    kind: "SLACK",
    url: `${receivers.url}/slack/T000/B000/XXXXSECRET`,
    severities: ["GREEN", "RED"],
  });
  await upsertNotificationChannel({ db: database.db, secrets }, admin, {
    name: "Ops email",
    kind: "EMAIL",
    recipients: ["ops@example.com", "owner@example.com"],
    severities: ["YELLOW"],
  });
  await upsertNotificationChannel({ db: database.db, secrets }, admin, {
    name: "PagerDuty",
    kind: "PAGERDUTY",
    url: `${receivers.url}/v2/enqueue`,
    secret: ROUTING_KEY,
    severities: ["RED"],
  });
  await upsertNotificationChannel({ db: database.db, secrets }, admin, {
    name: "Tickets",
    kind: "WEBHOOK",
    url: `${receivers.url}/webhook/tickets`,
    secret: WEBHOOK_SECRET,
    severities: ["RED"],
  });
});
afterAll(async () => {
  email?.close();
  await receivers?.stop();
  await smtp?.stop();
  await database?.drop();
});
beforeEach(async () => {
  receivers.clear();
  receivers.ok();
  smtp.clear();
  // Each test starts with nothing due.
  await database.db.outboxMessage.updateMany({
    where: { status: { in: ["PENDING", "FAILED"] } },
    data: { status: "DEAD" },
  });
});

describe("deduplication and the condition's lifecycle", () => {
  it("updates one open alert per fingerprint (count, last seen) and notifies once", async () => {
    const firing = condition();
    const first = new Date(Date.now() - 60_000);
    expect(await raiseAlert(quietDeps(database.db), firing, first)).toBe("OPENED");
    expect(await raiseAlert(quietDeps(database.db), firing)).toBe("UPDATED");
    expect(await raiseAlert(quietDeps(database.db), firing)).toBe("UPDATED");
    const alert = await alertByFingerprint(firing.fingerprint);
    expect(alert).toMatchObject({ status: "FIRING", count: 3, firstSeenAt: first });
    expect(alert.lastSeenAt.getTime()).toBeGreaterThan(first.getTime());
    expect(await database.db.alert.count({ where: { fingerprint: firing.fingerprint } })).toBe(1);
    // Red: PagerDuty, the ticket webhook and Slack, one delivery each, only for the opening.
    expect(await deliver()).toMatchObject({ sent: 3, dead: 0 });
    expect(
      receivers
        .received()
        .map((entry) => entry.kind)
        .sort(),
    ).toEqual(["pagerduty", "slack", "webhook"]);
    expect(await timeline(alert.id)).toEqual(["FIRED", "NOTIFIED"]);
  });

  it("resolves automatically with a note when the condition clears, and reopens when it returns", async () => {
    const flapping = condition({ severity: "YELLOW" });
    await raiseAlert(quietDeps(database.db), flapping);
    expect(await clearAlert(quietDeps(database.db), flapping.fingerprint, "Queue back under 10")).toBe(true);
    expect(await clearAlert(quietDeps(database.db), flapping.fingerprint, "again")).toBe(false);
    let alert = await alertByFingerprint(flapping.fingerprint);
    expect(alert).toMatchObject({ status: "RESOLVED", resolutionNote: "Queue back under 10" });
    expect(await raiseAlert(quietDeps(database.db), flapping)).toBe("REOPENED");
    alert = await alertByFingerprint(flapping.fingerprint);
    expect(alert).toMatchObject({ status: "FIRING", resolutionNote: null, resolvedAt: null, count: 2 });
    expect(await timeline(alert.id)).toEqual(["FIRED", "NOTIFIED", "RESOLVED", "NOTIFIED", "REOPENED", "NOTIFIED"]);
    const audit = await database.db.auditEvent.findMany({ where: { targetId: alert.id }, orderBy: { id: "asc" } });
    expect(audit.map((entry) => entry.action)).toEqual(["alert.fire", "alert.resolve", "alert.reopen"]);
    // Yellow goes to email only: fired, resolved, reopened.
    expect(await deliver()).toMatchObject({ sent: 3 });
    const mails = await smtp.waitFor((messages) => messages.length === 3);
    expect(mails.map((mail) => mail.subject)).toEqual([
      `[YELLOW] Firing: ${flapping.title}`,
      `[YELLOW] Resolved: ${flapping.title}`,
      `[YELLOW] Firing: ${flapping.title}`,
    ]);
    expect(mails[1]?.text).toContain("Queue back under 10");
    expect(mails[0]?.to).toEqual(["ops@example.com", "owner@example.com"]);
    expect(receivers.received()).toHaveLength(0);
  });
});

describe("publishing changes", () => {
  it("publishes on the publisher its caller's deps carry, after the commit (no process-wide bus)", async () => {
    const published: { name: string; payload: unknown }[] = [];
    const events: EventPublisher = {
      publish: (name, ...payload) => {
        published.push({ name, payload: payload[0] });
      },
    };
    const firing = condition({ severity: "YELLOW" });
    await raiseAlert(quietDeps(database.db), firing);
    expect(published).toEqual([]);
    const listening = { ...quietDeps(database.db), events };
    await raiseAlert(listening, firing, new Date());
    await clearAlert(listening, firing.fingerprint, "Cleared");
    expect(published.map((entry) => entry.name)).toEqual(["alertChanged", "alertChanged"]);
    expect(published[0]?.payload).toMatchObject({ change: "UPDATED", status: "FIRING" });
    expect(published[1]?.payload).toMatchObject({ change: "RESOLVED", status: "RESOLVED" });
  });
});

describe("the operator's lifecycle", () => {
  it("acknowledges (by whom), then resolves with a note; acting on a resolved alert is refused and changes nothing", async () => {
    const firing = condition();
    await raiseAlert(quietDeps(database.db), firing);
    const { id } = await alertByFingerprint(firing.fingerprint);
    // One deps for the whole lifecycle: what each action queued after its commit is recorded.
    const deps = quietDeps(database.db);
    const acknowledged = await acknowledgeAlert(deps, operator, id);
    expect(acknowledged).toMatchObject({ status: "ACKNOWLEDGED", acknowledgedById: (operator as { id: string }).id });
    await expect(acknowledgeAlert(deps, operator, id)).rejects.toBeInstanceOf(ConflictError);
    await expect(resolveAlert(deps, operator, id, " ")).rejects.toBeInstanceOf(InvalidInputError);
    const resolved = await resolveAlert(deps, operator, id, "Restarted the webhook consumer");
    expect(resolved).toMatchObject({ status: "RESOLVED", resolutionNote: "Restarted the webhook consumer" });
    // Each action's notifications are delivered at once (one outbox run per action); refused ones queue nothing.
    expect(deps.enqueued.map((job) => job.name)).toEqual(["outbox-delivery", "outbox-delivery"]);
    expect(deps.enqueued.map((job) => (job.payload as { cause: string }).cause)).toEqual([
      expect.stringMatching(new RegExp(`^alert-${id}-acknowledged-\\d+$`)),
      expect.stringMatching(new RegExp(`^alert-${id}-resolved-\\d+$`)),
    ]);

    const before = await database.db.alert.findUniqueOrThrow({ where: { id } });
    const eventsBefore = await database.db.alertEvent.count({ where: { alertId: id } });
    await expect(acknowledgeAlert(quietDeps(database.db), operator, id)).rejects.toBeInstanceOf(AlertResolvedError);
    await expect(resolveAlert(quietDeps(database.db), operator, id, "twice")).rejects.toBeInstanceOf(
      AlertResolvedError,
    );
    await expect(
      silenceAlert(quietDeps(database.db), operator, id, new Date(Date.now() + 3_600_000)),
    ).rejects.toBeInstanceOf(AlertResolvedError);
    expect(await database.db.alert.findUniqueOrThrow({ where: { id } })).toEqual(before);
    expect(await database.db.alertEvent.count({ where: { alertId: id } })).toBe(eventsBefore);
    const actions = (await database.db.auditEvent.findMany({ where: { targetId: id }, orderBy: { id: "asc" } })).map(
      (entry) => [entry.action, entry.actorLabel],
    );
    expect(actions).toEqual([
      ["alert.fire", "system:rule:test.rule"],
      ["alert.acknowledge", "otto@test.example"],
      ["alert.resolve", "otto@test.example"],
    ]);
  });

  it("sends PagerDuty trigger, acknowledge and resolve with the fingerprint as dedup_key", async () => {
    const firing = condition({ labels: { region: "Melbourne" } });
    await raiseAlert(quietDeps(database.db), firing);
    const { id } = await alertByFingerprint(firing.fingerprint);
    await deliver();
    await acknowledgeAlert(quietDeps(database.db), operator, id);
    await deliver();
    await resolveAlert(quietDeps(database.db), operator, id, "Fixed the key");
    await deliver();
    const events = receivers.received("pagerduty");
    expect(events.map((entry) => entry.status)).toEqual([202, 202, 202]);
    expect(events.map((entry) => entry.body)).toEqual([
      {
        routing_key: ROUTING_KEY,
        event_action: "trigger",
        dedup_key: firing.fingerprint,
        payload: expect.objectContaining({
          summary: firing.title,
          source: "steward.alerts",
          severity: "critical",
          custom_details: expect.objectContaining({ region: "Melbourne", text: firing.detail }) as unknown,
        }) as unknown,
      },
      { routing_key: ROUTING_KEY, event_action: "acknowledge", dedup_key: firing.fingerprint },
      { routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: firing.fingerprint },
    ]);
    // The delivery log per alert: every outbox row SENT with one successful attempt.
    const deliveries = await database.db.outboxMessage.findMany({
      where: { alertId: id },
      include: { attemptsLog: true },
    });
    expect(deliveries).toHaveLength(9);
    expect(deliveries.every((row) => row.status === "SENT" && row.attemptsLog.length === 1)).toBe(true);
  });
});

describe("channel payloads as their receivers expect them", () => {
  it("posts Block Kit to Slack and a webhook whose HMAC the receiver verifies", async () => {
    const firing = condition({ title: "Stripe webhook failures: 5 in the last hour" });
    await raiseAlert(quietDeps(database.db), firing);
    await deliver();
    const [slack] = receivers.received("slack");
    expect(slack).toMatchObject({ status: 200, path: "/slack/T000/B000/XXXXSECRET" });
    const message = slack!.body as { text: string; blocks: { type: string }[] };
    expect(message.text).toBe(`[RED] Firing: ${firing.title}`);
    expect(message.blocks.map((block) => block.type)).toEqual(["header", "section", "section", "context"]);

    const [ticket] = receivers.received("webhook");
    expect(ticket).toMatchObject({ status: 200, signatureValid: true });
    expect(ticket!.body).toMatchObject({ type: "alert.trigger", dedupKey: firing.fingerprint, severity: "RED" });
    // The same body signed with another secret, or tampered with, does not verify.
    const header = ticket!.headers["x-steward-signature"];
    expect(verifySignature(header, ticket!.rawBody, "another-secret-entirely", 300)).toBe(false);
    expect(verifySignature(header, ticket!.rawBody.replace("RED", "GREEN"), WEBHOOK_SECRET, 300)).toBe(false);
    const stale = webhookSignature(WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600, ticket!.rawBody);
    expect(verifySignature(stale, ticket!.rawBody, WEBHOOK_SECRET, 300)).toBe(false);
  });

  it("tests a channel and reports a failing one as a result, not an error", async () => {
    const slack = await database.db.notificationChannel.findUniqueOrThrow({ where: { name: "Slack #ops" } });
    expect(
      await testNotificationChannel({ ...quietDeps(database.db), mail: email, secrets }, admin, {
        channelId: slack.id,
      }),
    ).toMatchObject({
      ok: true,
      responseCode: 200,
    });
    receivers.fail(1);
    const failed = await testNotificationChannel({ ...quietDeps(database.db), mail: email, secrets }, admin, {
      channelId: slack.id,
    });
    expect(failed).toMatchObject({ ok: false, responseCode: 500 });
    expect(failed.message).toMatch(/500/);
    const broken = await upsertNotificationChannel({ db: database.db, secrets }, admin, {
      name: "Nowhere",
      kind: "WEBHOOK",
      url: "http://127.0.0.1:1/hook",
      secret: "0123456789abcdef0123",
      severities: ["GREEN"],
      enabled: false,
    });
    expect(
      await testNotificationChannel({ ...quietDeps(database.db), mail: email, secrets }, admin, {
        channelId: broken.id,
      }),
    ).toMatchObject({
      ok: false,
      responseCode: null,
    });
  });
});

describe("channel secrets at rest", () => {
  const SLACK_SECRET = "XXXXSECRET";

  it("stores the Slack URL, routing key and HMAC secret encrypted, and delivers with them", async () => {
    // Every column of every channel row, and the audit trail of their creation, as a dump would show them.
    const dump = JSON.stringify([
      await database.db.$queryRaw`SELECT row_to_json(c)::text AS row FROM "NotificationChannel" c`,
      await database.db.$queryRaw`SELECT row_to_json(a)::text AS row FROM "AuditEvent" a`,
    ]);
    for (const secret of [SLACK_SECRET, ROUTING_KEY, WEBHOOK_SECRET]) expect(dump).not.toContain(secret);
    const stored = await database.db.notificationChannel.findMany({ where: { kind: { not: "EMAIL" } } });
    expect(stored.length).toBeGreaterThanOrEqual(3);
    for (const channel of stored) expect(channel.secret).toMatch(/^enc:v1:/);

    const firing = condition();
    await raiseAlert(quietDeps(database.db), firing);
    expect(await deliver()).toMatchObject({ sent: 3, dead: 0 });
    expect(receivers.received("slack")[0]?.path).toBe(`/slack/T000/B000/${SLACK_SECRET}`);
    expect(receivers.received("pagerduty")[0]?.body).toMatchObject({ routing_key: ROUTING_KEY });
    expect(receivers.received("webhook")[0]).toMatchObject({ status: 200, signatureValid: true });
  });

  it("cannot be read under another key: the send fails with a clear message and nothing goes out", async () => {
    const slack = await database.db.notificationChannel.findUniqueOrThrow({ where: { name: "Slack #ops" } });
    const otherKey = channelSecretCipher({ NOTIFY_SECRET_KEY: randomBytes(32).toString("base64") });
    const result = await testNotificationChannel({ ...quietDeps(database.db), mail: email, secrets: otherKey }, admin, {
      channelId: slack.id,
    });
    expect(result).toMatchObject({ ok: false, responseCode: null });
    expect(result.message).toMatch(/NOTIFY_SECRET_KEY/);
    expect(receivers.received()).toHaveLength(0);
  });
});

describe("retries and the dead state", () => {
  it("retries a failing receiver with backoff, then marks the delivery DEAD and says so on the timeline", async () => {
    const firing = condition();
    await raiseAlert(quietDeps(database.db), firing);
    const { id } = await alertByFingerprint(firing.fingerprint);
    receivers.fail();
    let now = new Date(Date.now() + 1000);
    expect(await deliver(now)).toMatchObject({ retrying: 3, sent: 0 });
    // Not due again before the backoff.
    expect(await deliver(now)).toEqual({ sent: 0, retrying: 0, dead: 0 });
    now = new Date(now.getTime() + backoffMs(1));
    expect(await deliver(now)).toMatchObject({ retrying: 3 });
    now = new Date(now.getTime() + backoffMs(2));
    expect(await deliver(now)).toMatchObject({ dead: 3 });
    const rows = await database.db.outboxMessage.findMany({
      where: { alertId: id },
      include: { attemptsLog: { orderBy: { attempt: "asc" } } },
    });
    expect(rows.map((row) => row.status)).toEqual(["DEAD", "DEAD", "DEAD"]);
    for (const row of rows) {
      expect(row.attemptsLog.map((entry) => [entry.attempt, entry.ok, entry.responseCode])).toEqual([
        [1, false, 500],
        [2, false, 500],
        [3, false, 500],
      ]);
    }
    expect(receivers.received()).toHaveLength(9);
    const messages = await database.db.alertEvent.findMany({ where: { alertId: id, kind: "NOTIFIED" } });
    expect(messages.filter((event) => event.message.includes("gave up after 3 attempt(s)"))).toHaveLength(3);
    const audited = await database.db.auditEvent.count({
      where: { action: "notification.dead", targetId: { in: rows.map((row) => row.id) } },
    });
    expect(audited).toBe(3);
    // Nothing more is sent, however late.
    receivers.ok();
    expect(await deliver(new Date(now.getTime() + 86_400_000))).toEqual({ sent: 0, retrying: 0, dead: 0 });
  });

  it("gives up at once when PagerDuty refuses the event as invalid (400)", async () => {
    const pagerDuty = await database.db.notificationChannel.findUniqueOrThrow({ where: { name: "PagerDuty" } });
    await database.db.notificationChannel.update({
      where: { id: pagerDuty.id },
      data: { secret: "not-a-routing-key" },
    });
    try {
      const firing = condition();
      await raiseAlert(quietDeps(database.db), firing);
      await deliver();
      const row = await database.db.outboxMessage.findFirstOrThrow({
        where: { channelId: pagerDuty.id, alert: { fingerprint: firing.fingerprint } },
      });
      expect(row).toMatchObject({ status: "DEAD", attempts: 1 });
      const [refused] = receivers.received("pagerduty");
      expect(refused).toMatchObject({ status: 400, problem: "'routing_key' is invalid" });
      expect(await database.db.deliveryAttempt.findMany({ where: { outboxId: row.id } })).toMatchObject([
        { attempt: 1, ok: false, responseCode: 400 },
      ]);
    } finally {
      await database.db.notificationChannel.update({ where: { id: pagerDuty.id }, data: { secret: ROUTING_KEY } });
    }
  });
});

describe("silences", () => {
  it("records while silenced but notifies no one; a reminder goes out when the window ends", async () => {
    const noisy = condition({ severity: "YELLOW" });
    await raiseAlert(quietDeps(database.db), noisy);
    const { id } = await alertByFingerprint(noisy.fingerprint);
    await deliver();
    expect(smtp.messages()).toHaveLength(1);
    smtp.clear();

    const now = Date.now();
    await silenceAlert(quietDeps(database.db), operator, id, new Date(now + 30 * 60_000), "Known: vendor maintenance");
    await raiseAlert(quietDeps(database.db), { ...noisy, severity: "RED" }); // escalates while silenced
    await raiseAlert(quietDeps(database.db), { ...noisy, severity: "RED" });
    await acknowledgeAlert(quietDeps(database.db), operator, id);
    expect(await remindSilencedAlerts(quietDeps(database.db), new Date(now + 10 * 60_000))).toBe(0);
    await deliver();
    expect(smtp.messages()).toHaveLength(0);
    expect(receivers.received()).toHaveLength(0);
    const silenced = await database.db.alert.findUniqueOrThrow({ where: { id } });
    expect(silenced).toMatchObject({ count: 3, severity: "RED", status: "ACKNOWLEDGED" });

    expect(await remindSilencedAlerts(quietDeps(database.db), new Date(now + 31 * 60_000))).toBe(1);
    expect(await remindSilencedAlerts(quietDeps(database.db), new Date(now + 32 * 60_000))).toBe(0);
    await deliver();
    expect(
      receivers
        .received()
        .map((entry) => entry.kind)
        .sort(),
    ).toEqual(["pagerduty", "slack", "webhook"]);
    expect((await database.db.alert.findUniqueOrThrow({ where: { id } })).silencedUntil).toBeNull();
    expect(await timeline(id)).toEqual([
      "FIRED",
      "NOTIFIED",
      "SILENCED",
      "UPDATED",
      "NOTIFIED",
      "ACKNOWLEDGED",
      "NOTIFIED",
      "UPDATED",
      "NOTIFIED",
    ]);
  });

  it("refuses a silence in the past or longer than 7 days, and changes nothing", async () => {
    const firing = condition();
    await raiseAlert(quietDeps(database.db), firing);
    const before = await alertByFingerprint(firing.fingerprint);
    for (const until of [new Date(Date.now() - 60_000), new Date(Date.now() + 8 * 86_400_000), new Date("nope")])
      await expect(silenceAlert(quietDeps(database.db), operator, before.id, until)).rejects.toBeInstanceOf(
        InvalidInputError,
      );
    expect(await alertByFingerprint(firing.fingerprint)).toEqual(before);
    expect(await database.db.auditEvent.count({ where: { targetId: before.id, action: "alert.silence" } })).toBe(0);
  });
});

describe("inhibition", () => {
  it("while Stripe is unreachable, webhook failures and reconciliation mismatches notify no one; afterwards they do", async () => {
    await raiseAlert(quietDeps(database.db), {
      fingerprint: "stripe.unreachable",
      ruleKey: "stripe.unreachable",
      severity: "RED",
      title: "Stripe unreachable",
      detail: "3 probes failed",
    });
    await raiseAlert(quietDeps(database.db), {
      fingerprint: "stripe.webhook_failures",
      ruleKey: "stripe.webhook_failures",
      severity: "RED",
      title: "Stripe webhook failures",
      detail: "5 in 1 h",
    });
    await raiseAlert(quietDeps(database.db), {
      fingerprint: "reconciliation.mismatch:2026-11-30",
      ruleKey: "reconciliation.mismatch",
      severity: "RED",
      title: "Reconciliation mismatch",
      detail: "2 charges differ",
    });
    await deliver();
    const summaries = receivers
      .received("pagerduty")
      .map((entry) => (entry.body as { payload?: { summary: string } }).payload?.summary);
    expect(summaries).toEqual(["Stripe unreachable"]);
    const webhookAlert = await alertByFingerprint("stripe.webhook_failures");
    expect(webhookAlert.status).toBe("FIRING");
    const [note] = await database.db.alertEvent.findMany({ where: { alertId: webhookAlert.id, kind: "NOTIFIED" } });
    expect(note?.message).toMatch(/inhibited while "Stripe unreachable" is open/);

    receivers.clear();
    await clearAlert(quietDeps(database.db), "stripe.unreachable", "Stripe reachable again");
    await deliver();
    const after = receivers.received("pagerduty").map((entry) => {
      const body = entry.body as { event_action: string; dedup_key: string };
      return `${body.event_action}:${body.dedup_key}`;
    });
    expect(after.sort()).toEqual([
      "resolve:stripe.unreachable",
      "trigger:reconciliation.mismatch:2026-11-30",
      "trigger:stripe.webhook_failures",
    ]);
  });
});

describe("grouping: alerts of one cause notify as one message", () => {
  it("sends one message listing the group's members, pages no one for a later member, resolves with the last", async () => {
    const cause = `test.cause:${++sequence}`;
    const member = (region: string) => condition({ title: `Backlog in ${region}`, groupKey: cause });
    const regions = ["Yarra", "Darebin", "Monash"].map(member);
    for (const firing of regions) await raiseAlert(quietDeps(database.db), firing);

    // Held for the window, so the members raised by the same run join the first one's message.
    expect(await deliver()).toMatchObject({ sent: 0 });
    expect(await deliver(new Date(Date.now() + GROUP_WINDOW_MS + 1000))).toMatchObject({ sent: 3, dead: 0 });
    const pages = receivers.received("pagerduty").map((entry) => entry.body as PagerDutyBody);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ event_action: "trigger", dedup_key: `group:${cause}` });
    expect(pages[0]?.payload.summary).toBe(`3 alerts of one cause (${cause}): Backlog in Yarra`);
    const slack = JSON.stringify(receivers.received("slack").map((entry) => entry.body));
    for (const region of ["Yarra", "Darebin", "Monash"]) expect(slack).toContain(`Backlog in ${region}`);
    expect(receivers.received("slack")).toHaveLength(1);
    const darebin = await alertByFingerprint(regions[1]!.fingerprint);
    const [grouped] = await database.db.alertEvent.findMany({ where: { alertId: darebin.id, kind: "NOTIFIED" } });
    expect(grouped?.message).toMatch(/grouped with "Backlog in Yarra", already notified for this cause/);

    // A later member of the notified group pages no one.
    receivers.clear();
    const later = member("Casey");
    await raiseAlert(quietDeps(database.db), later);
    expect(await deliver(new Date(Date.now() + 2 * GROUP_WINDOW_MS))).toMatchObject({ sent: 0 });
    expect(receivers.received()).toEqual([]);

    // The group resolves when its last member does: one resolve, on the group's dedup key.
    for (const firing of regions) await clearAlert(quietDeps(database.db), firing.fingerprint, "Queue back under 10");
    expect(await deliver(new Date(Date.now() + 2 * GROUP_WINDOW_MS))).toMatchObject({ sent: 0 });
    await clearAlert(quietDeps(database.db), later.fingerprint, "Queue back under 10");
    await deliver(new Date(Date.now() + 2 * GROUP_WINDOW_MS));
    expect(receivers.received("pagerduty").map((entry) => entry.body)).toMatchObject([
      { event_action: "resolve", dedup_key: `group:${cause}` },
    ]);
  });

  it("a member graver than the group's notification still notifies (red pages after a yellow email)", async () => {
    const cause = `test.cause:${++sequence}`;
    await raiseAlert(
      quietDeps(database.db),
      condition({ severity: "YELLOW", title: "Backlog in Kew", groupKey: cause }),
    );
    await deliver(new Date(Date.now() + GROUP_WINDOW_MS + 1000));
    expect(receivers.received("pagerduty")).toEqual([]);
    await raiseAlert(
      quietDeps(database.db),
      condition({ severity: "RED", title: "Backlog in Hawthorn", groupKey: cause }),
    );
    await deliver(new Date(Date.now() + GROUP_WINDOW_MS + 1000));
    expect(receivers.received("pagerduty").map((entry) => (entry.body as PagerDutyBody).dedup_key)).toEqual([
      `group:${cause}`,
    ]);
  });
});

describe("channel management", () => {
  it("refuses malformed or insecure URLs and missing secrets, and changes nothing", async () => {
    const count = await database.db.notificationChannel.count();
    const bad = [
      { kind: "WEBHOOK" as const, url: "not a url", secret: WEBHOOK_SECRET },
      { kind: "WEBHOOK" as const, url: "http://tickets.example.com/hook", secret: WEBHOOK_SECRET },
      { kind: "WEBHOOK" as const, url: "ftp://127.0.0.1/hook", secret: WEBHOOK_SECRET },
      { kind: "WEBHOOK" as const, url: "https://user:pass@tickets.example.com/hook", secret: WEBHOOK_SECRET },
      { kind: "WEBHOOK" as const, url: "https://tickets.example.com/hook", secret: "short" },
      { kind: "WEBHOOK" as const, url: "https://tickets.example.com/hook" },
      { kind: "SLACK" as const, url: "https://hooks.slack.com" },
      { kind: "PAGERDUTY" as const },
      { kind: "EMAIL" as const, recipients: ["not-an-address"] },
    ];
    for (const input of bad)
      await expect(
        upsertNotificationChannel({ db: database.db, secrets }, admin, {
          name: "Bad one",
          severities: ["RED"],
          ...input,
        }),
      ).rejects.toBeInstanceOf(InvalidInputError);
    expect(await database.db.notificationChannel.count()).toBe(count);
  });

  it("keeps secrets out of what it returns and keeps a stored secret when an update leaves it out", async () => {
    const created = await upsertNotificationChannel({ db: database.db, secrets }, admin, {
      name: "Second Slack",
      kind: "SLACK",
      url: "https://hooks.slack.com/services/T1/B1/TOPSECRET",
      severities: ["GREEN"],
    });
    expect(JSON.stringify(created)).not.toContain("TOPSECRET");
    expect(created).toMatchObject({ target: "https://hooks.slack.com/…", hasSecret: true });
    const updated = await upsertNotificationChannel({ db: database.db, secrets }, admin, {
      id: created.id,
      name: "Second Slack",
      kind: "SLACK",
      severities: ["GREEN", "YELLOW"],
      enabled: false,
    });
    expect(updated).toMatchObject({ severities: ["GREEN", "YELLOW"], enabled: false, hasSecret: true });
    const row = await database.db.notificationChannel.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.secret).not.toContain("TOPSECRET");
    expect(secrets.open(row.secret!)).toBe("https://hooks.slack.com/services/T1/B1/TOPSECRET");
    const audit = await database.db.auditEvent.findMany({ where: { targetId: created.id } });
    expect(JSON.stringify(audit)).not.toContain("TOPSECRET");
  });
});

describe("ordering", () => {
  it("never lets an acknowledge or resolve overtake its trigger on one channel, even after a failure", async () => {
    const firing = condition();
    await raiseAlert(quietDeps(database.db), firing);
    const { id } = await alertByFingerprint(firing.fingerprint);
    await acknowledgeAlert(quietDeps(database.db), operator, id);
    await resolveAlert(quietDeps(database.db), operator, id, "Done and dusted");
    // The first delivery (a trigger) fails; what follows it on that channel must wait for it.
    receivers.fail(1);
    let now = new Date(Date.now() + 1000);
    await deliver(now);
    now = new Date(now.getTime() + backoffMs(1));
    await deliver(now);
    const perChannel = new Map<string, string[]>();
    for (const entry of receivers.received().filter((received) => received.status < 300)) {
      const body = entry.body as { event_action?: string; type?: string; text?: string };
      const event = body.event_action ?? body.type?.replace("alert.", "") ?? body.text?.split(":")[0] ?? "";
      perChannel.set(entry.kind, [...(perChannel.get(entry.kind) ?? []), event]);
    }
    expect(perChannel.get("pagerduty")).toEqual(["trigger", "acknowledge", "resolve"]);
    expect(perChannel.get("webhook")).toEqual(["trigger", "acknowledge", "resolve"]);
    expect(perChannel.get("slack")).toEqual(["[RED] Firing", "[RED] Acknowledged", "[RED] Resolved"]);
  });
});
