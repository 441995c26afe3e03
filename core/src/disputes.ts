// Disputes: a business the operator wants to look at again (a complaint, repeat refunds, a
// suspicious review) is flagged with a note, listed as the overview's disputes task and on the
// Disputes page, and unflagged with a note once settled. The queue-position playbook (seed 4.4,
// "I paid first! Why am I #5?") is one answer: position, who is ahead and when they paid, the
// ETA, a FIFO check of the region's queue against payment times, and an email to the trainer.
//   ACTIVE ──flag──▶ FLAGGED_FOR_REVIEW ──unflag──▶ ACTIVE
// Flagging a flagged business again only updates the note; archived or suspended ones can't be.
import type { Business, Db } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { queuePositionEmail } from "./email/placementTemplates.ts";
import type { RenderedEmail } from "./email/templates.ts";
import type { CoreDeps } from "./deps.ts";
import type { Env } from "./env.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors.ts";
import { deliverOutboxSoon } from "./followUps.ts";
import { isUuid } from "./ids.ts";
import { enqueueEmail } from "./outbox.ts";
import { assertOperatorCan } from "./permissions.ts";
import { type QueueAnswer, queuePosition } from "./placements.ts";
import { isStorableText } from "./text.ts";
import { type EffectDeps, inTransaction } from "./unitOfWork.ts";

const NOTE_MAX = 2000;

type FlagState = Pick<Business, "id" | "status" | "flagNote" | "flaggedAt">;

function requireNote(note: string, field: string): string {
  if (!isStorableText(note)) throw new InvalidInputError("The note contains characters that can't be stored", field);
  const cleaned = note.trim();
  if (cleaned.length < 3) throw new InvalidInputError("Say why in a few words (at least 3 characters)", field);
  if (cleaned.length > NOTE_MAX) throw new InvalidInputError(`At most ${NOTE_MAX} characters`, field);
  return cleaned;
}

async function existingBusiness(db: Db, businessId: string): Promise<FlagState> {
  if (!isUuid(businessId)) throw new NotFoundError("Business", businessId);
  const business = await db.business.findUnique({
    where: { id: businessId },
    select: { id: true, status: true, flagNote: true, flaggedAt: true },
  });
  if (!business) throw new NotFoundError("Business", businessId);
  return business;
}

/**
 * Flags a business for review with a note. One guarded UPDATE decides, so 30 flags at once leave
 * one flag (and one `business.flag` audit entry); a flag on a flagged business updates its note.
 */
export async function flagBusiness(
  deps: Pick<CoreDeps, "db" | "clock">,
  actor: Actor,
  input: { businessId: string; note: string },
): Promise<Business> {
  const { db } = deps;
  const now = deps.clock();
  assertOperatorCan(actor, "operate");
  const note = requireNote(input.note, "note");
  const before = await existingBusiness(db, input.businessId);
  if (before.status === "ARCHIVED" || before.status === "SUSPENDED")
    throw new ConflictError(`The business is ${before.status.toLowerCase()}: it can't be flagged`);
  return db.$transaction(async (tx) => {
    const flagged = await tx.business.updateMany({
      where: { id: before.id, status: "ACTIVE" },
      data: { status: "FLAGGED_FOR_REVIEW", flagNote: note, flaggedAt: now },
    });
    if (flagged.count === 1) {
      await recordAudit(tx, actor, {
        action: "business.flag",
        targetType: "Business",
        targetId: before.id,
        before: { status: before.status },
        after: { status: "FLAGGED_FOR_REVIEW", note },
      });
    } else {
      const renoted = await tx.business.updateMany({
        where: { id: before.id, status: "FLAGGED_FOR_REVIEW", NOT: { flagNote: note } },
        data: { flagNote: note },
      });
      if (renoted.count === 1)
        await recordAudit(tx, actor, {
          action: "business.flag_note",
          targetType: "Business",
          targetId: before.id,
          after: { note },
        });
    }
    return tx.business.findUniqueOrThrow({ where: { id: before.id } });
  });
}

/** Settles a dispute: back to ACTIVE, with the resolution in the audit log. */
export async function unflagBusiness(
  deps: Pick<CoreDeps, "db">,
  actor: Actor,
  input: { businessId: string; note: string },
): Promise<Business> {
  const { db } = deps;
  assertOperatorCan(actor, "operate");
  const note = requireNote(input.note, "note");
  const before = await existingBusiness(db, input.businessId);
  return db.$transaction(async (tx) => {
    const unflagged = await tx.business.updateMany({
      where: { id: before.id, status: "FLAGGED_FOR_REVIEW" },
      data: { status: "ACTIVE", flagNote: null, flaggedAt: null },
    });
    if (unflagged.count === 0)
      throw new ConflictError("The business is not flagged (someone may have settled it first)");
    await recordAudit(tx, actor, {
      action: "business.unflag",
      targetType: "Business",
      targetId: before.id,
      before: { status: "FLAGGED_FOR_REVIEW", note: before.flagNote },
      after: { status: "ACTIVE" },
      reason: note,
    });
    return tx.business.findUniqueOrThrow({ where: { id: before.id } });
  });
}

// ───────────────────────────── The queue-position playbook ─────────────────────────────

export interface QueueOrderProblem {
  businessId: string;
  businessName: string;
  /** What is out of order, in words an operator can act on. */
  problem: string;
}

export interface QueueDisputeCheck {
  queue: QueueAnswer;
  regionName: string;
  /** When this business paid for the placement it waits with (null when not queued). */
  paidAt: Date | null;
  /** The region's queue follows payment order and nobody who paid later is featured meanwhile. */
  fifoHolds: boolean;
  problems: QueueOrderProblem[];
}

/**
 * Step 1 and 3 of the playbook in one read: where the business stands, and whether the region's
 * queue really is first-in-first-out (queue order = payment order; no one featured who paid after
 * someone still waiting). A problem found here is the rare data issue to escalate.
 */
export async function checkQueueDispute(db: Db, businessId: string, now = new Date()): Promise<QueueDisputeCheck> {
  await existingBusiness(db, businessId);
  const queue = await queuePosition(db, businessId, now);
  const regionId = queue.regionId;
  if (!regionId) throw new NotFoundError("Region of business", businessId);
  const [region, queued, activated] = await Promise.all([
    db.region.findUniqueOrThrow({ where: { id: regionId }, select: { name: true } }),
    db.placement.findMany({
      where: { regionId, status: "QUEUED" },
      orderBy: [{ purchasedAt: "asc" }, { id: "asc" }],
      select: { businessId: true, purchasedAt: true, business: { select: { name: true } } },
    }),
    db.placement.findMany({
      where: { regionId, status: "ACTIVE" },
      select: { businessId: true, purchasedAt: true, business: { select: { name: true } } },
    }),
  ]);
  const problems: QueueOrderProblem[] = [];
  // Queue order must be payment order (the queue is sorted by purchase time; a tie keeps id order).
  for (let index = 1; index < queued.length; index++) {
    const previous = queued[index - 1];
    const current = queued[index];
    if (previous && current && current.purchasedAt < previous.purchasedAt)
      problems.push({
        businessId: current.businessId,
        businessName: current.business.name,
        problem: `paid before ${previous.business.name} but waits behind it`,
      });
  }
  const firstWaiting = queued[0];
  if (firstWaiting) {
    for (const featured of activated)
      if (featured.purchasedAt > firstWaiting.purchasedAt)
        problems.push({
          businessId: featured.businessId,
          businessName: featured.business.name,
          problem: `featured although it paid after ${firstWaiting.business.name}, who still waits`,
        });
  }
  const mine = queued.find((placement) => placement.businessId === businessId);
  return {
    queue,
    regionName: region.name,
    paidAt: mine?.purchasedAt ?? null,
    fifoHolds: problems.length === 0,
    problems,
  };
}

export interface QueueEmailDraft {
  to: string;
  email: RenderedEmail;
  /** Unique per business, position and day: sending twice the same day emails once. */
  dedupKey: string;
}

/** The email for a business waiting in a queue; null when it is not waiting (nothing to explain). */
async function draftQueueEmail(
  db: Db,
  businessId: string,
  timeZone: string,
  now: Date,
): Promise<QueueEmailDraft | null> {
  const check = await checkQueueDispute(db, businessId, now);
  if (check.queue.status !== "QUEUED" || check.queue.position === null || check.paidAt === null) return null;
  const business = await db.business.findUniqueOrThrow({
    where: { id: businessId },
    select: { name: true, email: true, region: { select: { featuredSlots: true } } },
  });
  const email = queuePositionEmail({
    businessName: business.name,
    regionName: check.regionName,
    position: check.queue.position,
    paidAt: check.paidAt,
    estimatedActivation: check.queue.estimatedActivation,
    featuredSlots: business.region.featuredSlots,
    timeZone,
  });
  const day = now.toISOString().slice(0, 10);
  return { to: business.email, email, dedupKey: `queue-position-${businessId}-${check.queue.position}-${day}` };
}

/** The email as it would be sent, for the preview beside the button (null: not queued). */
export async function previewQueuePositionEmail(
  db: Db,
  businessId: string,
  timeZone: string,
  now = new Date(),
): Promise<QueueEmailDraft | null> {
  return draftQueueEmail(db, businessId, timeZone, now);
}

/**
 * Emails the trainer their position through the outbox (audited). Returns whether a message was
 * queued now: pressing the button twice the same day, or by two operators at once, emails once.
 */
export async function emailQueuePosition(
  deps: Pick<CoreDeps, "db" | "clock"> & EffectDeps & { env: Pick<Env, "MARKETPLACE_TIME_ZONE"> },
  actor: Actor,
  businessId: string,
): Promise<{ queued: boolean; dedupKey: string }> {
  assertOperatorCan(actor, "operate");
  const draft = await draftQueueEmail(deps.db, businessId, deps.env.MARKETPLACE_TIME_ZONE, deps.clock());
  if (!draft) throw new ConflictError("The business is not waiting in a queue: there is no position to explain");
  return inTransaction(deps, async (unit) => {
    const { tx } = unit;
    const message = await enqueueEmail(tx, {
      kind: "email.queue_position",
      dedupKey: draft.dedupKey,
      businessId,
      email: { to: draft.to, ...draft.email },
    });
    if (message.created)
      await recordAudit(tx, actor, {
        action: "business.queue_position_emailed",
        targetType: "Business",
        targetId: businessId,
        after: { subject: draft.email.subject },
      });
    // Delivered now rather than at the outbox's next run.
    if (message.created) deliverOutboxSoon(unit, draft.dedupKey);
    return { queued: message.created, dedupKey: draft.dedupKey };
  });
}
