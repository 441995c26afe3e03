// The email outbox against real PostgreSQL and the SMTP sandbox (nodemailer over real SMTP):
// enqueued once per effect, sent once even when deliveries race or are retried, backoff after a
// temporary refusal, DEAD after the last attempt or a permanent refusal.
import { createMailSender } from "@steward/core/adapters/nodemailer";
import type { MailSender } from "@steward/core/ports/mail";
import { backoffMs, deliverDueEmails, enqueueEmail } from "@steward/core/outbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSmtpSandbox, type SmtpSandbox } from "../../sandbox/src/smtp/server.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { testEnv } from "../support/env.ts";

let database: TestDatabase;
let smtp: SmtpSandbox;
let sender: MailSender;
let sequence = 0;

const email = (to: string) => ({
  to,
  subject: `Hello ${to}`,
  text: `Plain text for ${to}`,
  html: `<p>HTML for <strong>${to}</strong></p>`,
});

async function enqueue(to: string, dedupKey = `test-${++sequence}`) {
  return database.db.$transaction((tx) => enqueueEmail(tx, { kind: "email.test", dedupKey, email: email(to) }));
}

const receivedBy = (to: string) => smtp.messages().filter((message) => message.to.includes(to));

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpSandbox({ port: 0 });
  sender = createMailSender(testEnv(database.url, { SMTP_HOST: smtp.host, SMTP_PORT: String(smtp.port) }));
});
afterAll(async () => {
  sender?.close();
  await smtp?.stop();
  await database?.drop();
});
beforeEach(async () => {
  smtp.clear();
  // Each test starts with nothing due.
  await database.db.outboxMessage.updateMany({
    where: { status: { in: ["PENDING", "FAILED"] } },
    data: { status: "DEAD" },
  });
});

describe("enqueueing", () => {
  it("stores a message once per dedup key, whoever enqueues it again", async () => {
    const first = await enqueue("once@example.com", "dedup-once");
    const second = await enqueue("once@example.com", "dedup-once");
    expect(first.created).toBe(true);
    expect(second).toEqual({ id: first.id, created: false });
    expect(await database.db.outboxMessage.count({ where: { dedupKey: "dedup-once" } })).toBe(1);
  });

  it("rolls back with the transaction that caused it", async () => {
    await expect(
      database.db.$transaction(async (tx) => {
        await enqueueEmail(tx, { kind: "email.test", dedupKey: "rolled-back", email: email("nobody@example.com") });
        throw new Error("the cause failed");
      }),
    ).rejects.toThrow("the cause failed");
    expect(await database.db.outboxMessage.count({ where: { dedupKey: "rolled-back" } })).toBe(0);
  });
});

describe("delivering", () => {
  it("sends over SMTP with text and HTML parts, marks it SENT, and records the attempt", async () => {
    const { id } = await enqueue("ok@example.com");
    const report = await deliverDueEmails(database.db, sender, { maxAttempts: 3 });
    expect(report).toEqual({ sent: 1, retrying: 0, dead: 0, deadEmails: [] });
    const [received] = receivedBy("ok@example.com");
    expect(received).toMatchObject({
      subject: "Hello ok@example.com",
      text: "Plain text for ok@example.com",
      html: "<p>HTML for <strong>ok@example.com</strong></p>",
      messageId: `<${id}@outbox.steward>`,
    });
    expect(received?.headers["x-steward-dedup-key"]).toMatch(/^test-/);
    const row = await database.db.outboxMessage.findUniqueOrThrow({ where: { id }, include: { attemptsLog: true } });
    expect(row).toMatchObject({ status: "SENT", attempts: 1, lastError: null });
    expect(row.attemptsLog).toMatchObject([{ attempt: 1, ok: true, responseCode: 250 }]);
    expect(await database.db.auditEvent.count({ where: { action: "email.sent", targetId: id } })).toBe(1);
    // Delivering again sends nothing more.
    expect(await deliverDueEmails(database.db, sender, { maxAttempts: 3 })).toEqual({
      sent: 0,
      retrying: 0,
      dead: 0,
      deadEmails: [],
    });
    expect(receivedBy("ok@example.com")).toHaveLength(1);
  });

  it("sends each message exactly once when several deliverers run at the same time", async () => {
    const recipients = Array.from({ length: 12 }, (_, index) => `race${index}@example.com`);
    for (const to of recipients) await enqueue(to);
    const reports = await Promise.all(
      [1, 2, 3, 4].map(() => deliverDueEmails(database.db, sender, { maxAttempts: 3, batchSize: 2 })),
    );
    expect(reports.reduce((sum, report) => sum + report.sent, 0)).toBe(12);
    for (const to of recipients) expect(receivedBy(to)).toHaveLength(1);
  });

  it("retries a temporary refusal with backoff, then sends it once", async () => {
    const { id } = await enqueue("later@example.com");
    smtp.failNext(2, 451);
    let now = new Date();
    const clock = () => now;
    expect(await deliverDueEmails(database.db, sender, { maxAttempts: 5, now: clock })).toMatchObject({ retrying: 1 });
    let row = await database.db.outboxMessage.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: "FAILED", attempts: 1 });
    expect(row.lastError).toMatch(/451/);
    expect(row.nextAttemptAt.getTime()).toBe(now.getTime() + backoffMs(1));
    // Not due yet: nothing happens.
    expect(await deliverDueEmails(database.db, sender, { maxAttempts: 5, now: clock })).toEqual({
      sent: 0,
      retrying: 0,
      dead: 0,
      deadEmails: [],
    });
    now = new Date(now.getTime() + backoffMs(1));
    expect(await deliverDueEmails(database.db, sender, { maxAttempts: 5, now: clock })).toMatchObject({ retrying: 1 });
    now = new Date(now.getTime() + backoffMs(2));
    expect(await deliverDueEmails(database.db, sender, { maxAttempts: 5, now: clock })).toMatchObject({ sent: 1 });
    row = await database.db.outboxMessage.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: "SENT", attempts: 3 });
    const attempts = await database.db.deliveryAttempt.findMany({
      where: { outboxId: id },
      orderBy: { attempt: "asc" },
    });
    expect(attempts.map((attempt) => [attempt.attempt, attempt.ok, attempt.responseCode])).toEqual([
      [1, false, 451],
      [2, false, 451],
      [3, true, 250],
    ]);
    expect(receivedBy("later@example.com")).toHaveLength(1);
  });

  it("gives up after the last attempt (DEAD), and at once on a permanent refusal", async () => {
    const tired = await enqueue("tired@example.com");
    smtp.failNext(10, 421);
    let now = new Date();
    const clock = () => now;
    for (let attempt = 1; attempt <= 2; attempt++) {
      await deliverDueEmails(database.db, sender, { maxAttempts: 2, now: clock });
      now = new Date(now.getTime() + backoffMs(attempt));
    }
    expect(await database.db.outboxMessage.findUniqueOrThrow({ where: { id: tired.id } })).toMatchObject({
      status: "DEAD",
      attempts: 2,
    });
    expect(await database.db.auditEvent.count({ where: { action: "email.dead", targetId: tired.id } })).toBe(1);
    smtp.clear();

    const unknown = await enqueue("unknown@example.com");
    smtp.failNext(1, 550);
    expect(await deliverDueEmails(database.db, sender, { maxAttempts: 5 })).toMatchObject({
      dead: 1,
      deadEmails: [{ id: unknown.id, to: "unknown@example.com" }],
    });
    expect(await database.db.outboxMessage.findUniqueOrThrow({ where: { id: unknown.id } })).toMatchObject({
      status: "DEAD",
      attempts: 1,
    });
    now = new Date(Date.now() + 24 * 3_600_000);
    expect(await deliverDueEmails(database.db, sender, { maxAttempts: 5, now: clock })).toEqual({
      sent: 0,
      retrying: 0,
      dead: 0,
      deadEmails: [],
    });
    expect(smtp.messages()).toHaveLength(0);
  });

  it("keeps the message for later when the SMTP server is unreachable", async () => {
    const { id } = await enqueue("offline@example.com");
    const offline = createMailSender(testEnv(database.url, { SMTP_HOST: "127.0.0.1", SMTP_PORT: "1" }));
    try {
      expect(await deliverDueEmails(database.db, offline, { maxAttempts: 5 })).toMatchObject({ retrying: 1 });
    } finally {
      offline.close();
    }
    const row = await database.db.outboxMessage.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe("FAILED");
    expect(row.lastError).toMatch(/ECONNREFUSED/);
  });

  it("leaves other outbox kinds (alert notifications) to their own deliverer", async () => {
    const other = await database.db.outboxMessage.create({
      data: { kind: "notification.slack", dedupKey: `slack-${Date.now()}`, payload: { text: "hi" } },
    });
    await deliverDueEmails(database.db, sender, { maxAttempts: 3 });
    expect(await database.db.outboxMessage.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({
      status: "PENDING",
      attempts: 0,
    });
  });
});
