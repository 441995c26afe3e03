// The transactional outbox for email. A message is written in the same transaction as its cause
// (a refund decided, ...) with a dedup key unique per effect, so the cause can never enqueue it
// twice. The worker's `outbox-delivery` job then claims due messages with FOR UPDATE SKIP LOCKED
// (concurrent runs never pick the same row), sends them over SMTP, and records every attempt:
//   PENDING ──send ok──▶ SENT
//      │ fail
//      ▼
//   FAILED (retried with exponential backoff) ──send ok──▶ SENT
//      └── last attempt, or a permanent SMTP refusal ──▶ DEAD
// That bookkeeping is `deliverDue`, shared by every kind family; what differs is the deliverer
// (SMTP here for kinds starting with "email.", the channel senders for alert notifications).
import type { Db, DbTx } from "@steward/db/client";
import { z } from "zod";
import { systemActor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { type MailSender, smtpResponseCode } from "./ports/mail.ts";

export const EMAIL_KIND_PREFIX = "email.";
const BASE_BACKOFF_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;
/** A claimed message is invisible to other deliverers this long (longer than any SMTP timeout). */
const DEFAULT_LEASE_MS = 5 * 60_000;

const emailPayload = z.object({
  to: z.string().min(3),
  subject: z.string().min(1),
  text: z.string(),
  html: z.string(),
});
export type EmailPayload = z.infer<typeof emailPayload>;

export interface EnqueueEmail {
  /** e.g. "email.refund_approved". */
  kind: `email.${string}`;
  /** Unique per effect: enqueueing the same key again is a no-op. */
  dedupKey: string;
  /** The business it is to, so its page lists it (omit for operators' emails). */
  businessId?: string;
  email: EmailPayload;
}

/** Call inside the transaction that causes the email. Returns the row id and whether it is new. */
export async function enqueueEmail(tx: DbTx, message: EnqueueEmail): Promise<{ id: string; created: boolean }> {
  const payload = emailPayload.parse(message.email);
  const inserted = await tx.outboxMessage.createMany({
    data: [{ kind: message.kind, dedupKey: message.dedupKey, businessId: message.businessId ?? null, payload }],
    skipDuplicates: true,
  });
  const row = await tx.outboxMessage.findUniqueOrThrow({ where: { dedupKey: message.dedupKey }, select: { id: true } });
  return { id: row.id, created: inserted.count === 1 };
}

/** Delay before attempt n+1 after n failed attempts: 30 s, 1 min, 2 min … capped at 1 h. */
export function backoffMs(failedAttempts: number): number {
  return Math.min(BASE_BACKOFF_MS * 2 ** Math.max(0, failedAttempts - 1), MAX_BACKOFF_MS);
}

export interface DeliveryOptions {
  maxAttempts: number;
  now?: () => Date;
  batchSize?: number;
  /** Upper bound per run, so one run cannot go on forever. */
  maxMessages?: number;
  /** How long a claim hides a message from other deliverers (default 5 min). */
  leaseMs?: number;
}

export interface DeliveryReport {
  sent: number;
  retrying: number;
  dead: number;
}

export interface Claimed {
  id: string;
  kind: string;
  dedupKey: string;
  payload: unknown;
  attempts: number;
}

/**
 * Claims due messages whose kind starts with `kindPrefix` (a short lease, committed at once), so
 * sends happen outside any transaction. Each kind family has its own deliverer. Messages about
 * one alert to one channel go out in order (a PagerDuty acknowledge never overtakes its
 * trigger): one waits while an older one is undelivered. Returned oldest first.
 * A deliverer killed mid-send leaves its messages leased: they are claimed again once the lease ends.
 */
export async function claimDue(
  db: Db,
  now: Date,
  batchSize: number,
  kindPrefix: string,
  leaseMs = DEFAULT_LEASE_MS,
): Promise<Claimed[]> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  // UPDATE … RETURNING comes back in no particular order: sort what was claimed.
  return db.$queryRaw<Claimed[]>`
    WITH claimed AS (
      UPDATE "OutboxMessage" SET attempts = attempts + 1, "nextAttemptAt" = ${leaseUntil}
       WHERE id IN (
         SELECT due.id FROM "OutboxMessage" due
          WHERE due.status IN ('PENDING', 'FAILED') AND due."nextAttemptAt" <= ${now}
            AND due.kind LIKE ${`${kindPrefix}%`}
            AND NOT EXISTS (
              SELECT 1 FROM "OutboxMessage" older
               WHERE older."alertId" = due."alertId" AND older."channelId" = due."channelId"
                 AND older.status IN ('PENDING', 'FAILED')
                 AND (older."createdAt", older.id) < (due."createdAt", due.id))
          ORDER BY due."nextAttemptAt", due.id
          LIMIT ${batchSize}
          FOR UPDATE SKIP LOCKED)
   RETURNING id, kind, "dedupKey", payload, attempts, "createdAt")
    SELECT id, kind, "dedupKey", payload, attempts FROM claimed ORDER BY "createdAt", id`;
}

/** What one send came to. `permanent`: retrying cannot help, so the message is given up on now. */
export type AttemptResult =
  | { ok: true; responseCode: number | null }
  | { ok: false; error: string; responseCode: number | null; permanent: boolean };

/**
 * One kind family's deliverer (email, alert notifications): how a message is sent and what it
 * records besides the bookkeeping every family shares (status, backoff, attempt log, DEAD audit).
 */
export interface OutboxDeliverer {
  /** The kinds it owns, e.g. "email.". */
  kindPrefix: string;
  /** The audit action when a message is given up on, e.g. "email.dead". */
  deadAction: string;
  send(message: Claimed): Promise<AttemptResult>;
  /** In the transaction that marked the message SENT, when this attempt's claim still held. */
  onSent?(tx: DbTx, message: Claimed): Promise<void>;
  /** In the transaction that marked the message DEAD, after the audit entry (`error` as logged). */
  onDead?(tx: DbTx, message: Claimed, error: string): Promise<void>;
  /** In the transaction of an attempt that ended the message (SENT or DEAD), after the above. */
  onSettled?(tx: DbTx, message: Claimed): Promise<void>;
}

/** Claims due messages of the deliverer's kinds, sends each outside any transaction, records the outcome. */
export async function deliverDue(
  db: Db,
  deliverer: OutboxDeliverer,
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const clock = options.now ?? (() => new Date());
  const batchSize = options.batchSize ?? 20;
  const maxMessages = options.maxMessages ?? 500;
  const report: DeliveryReport = { sent: 0, retrying: 0, dead: 0 };
  const actor = systemActor("outbox-delivery");
  let handled = 0;
  while (handled < maxMessages) {
    const batch = await claimDue(
      db,
      clock(),
      Math.min(batchSize, maxMessages - handled),
      deliverer.kindPrefix,
      options.leaseMs ?? DEFAULT_LEASE_MS,
    );
    if (batch.length === 0) break;
    handled += batch.length;
    for (const message of batch) {
      const result = await deliverer.send(message);
      const now = clock();
      await db.$transaction(async (tx) => {
        // Guarded by the attempt we claimed: a deliverer whose lease ran out cannot overwrite.
        const guard = {
          id: message.id,
          attempts: message.attempts,
          status: { in: ["PENDING" as const, "FAILED" as const] },
        };
        if (result.ok) {
          const updated = await tx.outboxMessage.updateMany({
            where: guard,
            data: { status: "SENT", sentAt: now, lastError: null },
          });
          await tx.deliveryAttempt.create({
            data: { outboxId: message.id, attempt: message.attempts, ok: true, responseCode: result.responseCode },
          });
          if (updated.count === 1) {
            report.sent++;
            await deliverer.onSent?.(tx, message);
          }
          await deliverer.onSettled?.(tx, message);
          return;
        }
        const dead = result.permanent || message.attempts >= options.maxAttempts;
        const error = result.error.slice(0, 2000);
        const settled = await tx.outboxMessage.updateMany({
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
            responseCode: result.responseCode,
            error,
          },
        });
        // Another deliverer settled it after this one's lease ran out: its attempt is logged, but the
        // give-up (audit, timeline, live event) belongs to whoever moved the row.
        if (settled.count === 0) return;
        if (!dead) {
          report.retrying++;
          return;
        }
        report.dead++;
        await recordAudit(tx, actor, {
          action: deliverer.deadAction,
          targetType: "OutboxMessage",
          targetId: message.id,
          after: { kind: message.kind, attempts: message.attempts },
          reason: error.slice(0, 500),
        });
        await deliverer.onDead?.(tx, message, error);
        await deliverer.onSettled?.(tx, message);
      });
    }
  }
  return report;
}

/** An email given up on (a permanent refusal or its last attempt), for whoever must hear of it. */
export interface DeadEmail {
  id: string;
  kind: string;
  to: string;
  error: string;
}

/**
 * The email deliverer: SMTP, with the outbox id as Message-ID so a resend is recognisable. Emails
 * given up on are added to `dead` (after their transaction commits, the caller raises alerts).
 */
function emailDeliverer(sender: MailSender, dead: DeadEmail[]): OutboxDeliverer {
  const actor = systemActor("outbox-delivery");
  return {
    kindPrefix: EMAIL_KIND_PREFIX,
    deadAction: "email.dead",
    async send(message) {
      const parsed = emailPayload.safeParse(message.payload);
      if (!parsed.success)
        return {
          ok: false,
          error: `Invalid email payload: ${parsed.error.message}`,
          responseCode: null,
          permanent: true,
        };
      try {
        const result = await sender.send({
          ...parsed.data,
          messageId: `<${message.id}@outbox.steward>`,
          headers: { "X-Steward-Dedup-Key": message.dedupKey },
        });
        return { ok: true, responseCode: parseCode(result.response) };
      } catch (caught) {
        const code = smtpResponseCode(caught);
        return {
          ok: false,
          error: caught instanceof Error ? caught.message : String(caught),
          responseCode: code,
          // 5xx from the server is a permanent refusal (unknown mailbox...): retrying will not help.
          permanent: code !== null && code >= 500,
        };
      }
    },
    async onSent(tx, message) {
      const parsed = emailPayload.safeParse(message.payload);
      await recordAudit(tx, actor, {
        action: "email.sent",
        targetType: "OutboxMessage",
        targetId: message.id,
        after: { kind: message.kind, to: parsed.success ? parsed.data.to : "", attempt: message.attempts },
      });
    },
    onDead(_tx, message, error) {
      const parsed = emailPayload.safeParse(message.payload);
      dead.push({ id: message.id, kind: message.kind, to: parsed.success ? parsed.data.to : "", error });
      return Promise.resolve();
    },
  };
}

export async function deliverDueEmails(
  db: Db,
  sender: MailSender,
  options: DeliveryOptions,
): Promise<DeliveryReport & { deadEmails: DeadEmail[] }> {
  const deadEmails: DeadEmail[] = [];
  const report = await deliverDue(db, emailDeliverer(sender, deadEmails), options);
  return { ...report, deadEmails };
}

function parseCode(response: string | null): number | null {
  const match = response ? /^(\d{3})/.exec(response) : null;
  return match ? Number(match[1]) : null;
}

export function describeDelivery(report: DeliveryReport): string {
  if (report.sent + report.retrying + report.dead === 0) return "no email due";
  return `sent ${report.sent}, will retry ${report.retrying}, dead ${report.dead}`;
}
