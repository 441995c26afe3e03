// Emails to businesses beyond refunds, and what each business page shows of them:
//   - placement started late: a missed charge imported by reconciliation, or a held charge
//     accepted, starts (or queues) a placement the business already paid for: it is told so;
//   - placement ending soon: three days before a featured placement ends (the daily expiry run);
//   - every email to a business, with its delivery status (queued, sent, retrying, dead);
//   - an email given up on raises an alert per address (fix the address, then resolve it).
// Every email goes through the outbox in the transaction that causes it, keyed once per effect.
import type { Db, DbTx, OutboxStatus, Placement } from "@steward/db/client";
import { type AlertDeps, raiseAlert } from "./alerts.ts";
import { placementEndingSoonEmail, placementStartedEmail } from "./email/placementTemplates.ts";
import { type DeliveryOptions, type DeliveryReport, deliverDueEmails, enqueueEmail } from "./outbox.ts";
import { describeChanges, expireAndPromote, queuePosition } from "./placements.ts";
import type { CoreDeps } from "./deps.ts";
import type { JobOutcome } from "./jobRuns.ts";

const DAY_MS = 86_400_000;
/** How long before its end a featured placement's business is reminded. */
export const ENDING_SOON_DAYS = 3;

/**
 * Tells the business its late-recorded payment now counts: featured until …, or #n in the queue
 * with an ETA. Call in the transaction that placed it; once per placement (dedup key).
 */
export async function emailPlacementStarted(tx: DbTx, placement: Placement, timeZone: string): Promise<void> {
  if (placement.status !== "ACTIVE" && placement.status !== "QUEUED") return;
  const [business, region] = await Promise.all([
    tx.business.findUniqueOrThrow({ where: { id: placement.businessId }, select: { name: true, email: true } }),
    tx.region.findUniqueOrThrow({ where: { id: placement.regionId }, select: { name: true } }),
  ]);
  // Where it stands now, as the business page and the queue-position email say it.
  const queue = placement.status === "QUEUED" ? await queuePosition(tx, placement.businessId) : null;
  const email = placementStartedEmail({
    businessName: business.name,
    regionName: region.name,
    paidAt: placement.purchasedAt,
    status: placement.status,
    featuredUntil: placement.featuredUntil,
    position: queue?.position ?? null,
    estimatedActivation: queue?.estimatedActivation ?? null,
    timeZone,
  });
  await enqueueEmail(tx, {
    kind: "email.placement_started",
    dedupKey: `placement-started-${placement.id}`,
    businessId: placement.businessId,
    email: { to: business.email, ...email },
  });
}

/**
 * Reminds each business whose featured placement ends within ENDING_SOON_DAYS (once per
 * placement, whenever the daily run first sees it). Returns how many reminders were queued now.
 */
export async function emailPlacementsEndingSoon(db: Db, timeZone: string, now = new Date()): Promise<number> {
  const ending = await db.placement.findMany({
    where: { status: "ACTIVE", featuredUntil: { gt: now, lte: new Date(now.getTime() + ENDING_SOON_DAYS * DAY_MS) } },
    select: {
      id: true,
      businessId: true,
      featuredUntil: true,
      business: { select: { name: true, email: true, status: true } },
      region: { select: { name: true } },
    },
  });
  let queued = 0;
  for (const placement of ending) {
    if (!placement.featuredUntil || placement.business.status === "ARCHIVED") continue;
    const email = placementEndingSoonEmail({
      businessName: placement.business.name,
      regionName: placement.region.name,
      featuredUntil: placement.featuredUntil,
      timeZone,
    });
    const message = await enqueueEmail(db, {
      kind: "email.placement_ending_soon",
      dedupKey: `placement-ending-${placement.id}`,
      businessId: placement.businessId,
      email: { to: placement.business.email, ...email },
    });
    if (message.created) queued += 1;
  }
  return queued;
}

/**
 * Delivers due emails (outbox.ts), then raises a yellow alert for each address an email was given
 * up on: one alert per address, counting repeats, so a bouncing mailbox is one thing to fix.
 */
export async function deliverEmails(
  deps: AlertDeps & Pick<CoreDeps, "mail">,
  options: DeliveryOptions,
): Promise<DeliveryReport & { alerted: number }> {
  const { deadEmails, ...report } = await deliverDueEmails(deps.db, deps.mail, options);
  for (const dead of deadEmails)
    await raiseAlert(
      deps,
      {
        fingerprint: `email.dead:${dead.to}`,
        ruleKey: "email.dead",
        severity: "YELLOW",
        title: `Email to ${dead.to} could not be delivered`,
        detail: `The ${dead.kind.replace("email.", "").replaceAll("_", " ")} email was given up on: ${dead.error.slice(0, 300)}. Check the address (the business's page lists its emails), fix it in the catalog, then resolve this alert.`,
        labels: { to: dead.to, outboxMessageId: dead.id },
      },
      new Date(),
    );
  return { ...report, alerted: deadEmails.length };
}

export type BusinessEmailStatus = "QUEUED" | "SENT" | "RETRYING" | "DEAD";

const STATUS_SHOWN: Record<OutboxStatus, BusinessEmailStatus> = {
  PENDING: "QUEUED",
  SENT: "SENT",
  FAILED: "RETRYING",
  DEAD: "DEAD",
};

export interface BusinessEmail {
  id: string;
  kind: string;
  to: string;
  subject: string;
  status: BusinessEmailStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

/** Every email to one business, newest first (the last `limit`). */
export async function emailsToBusiness(db: Db, businessId: string, limit = 100): Promise<BusinessEmail[]> {
  const rows = await db.outboxMessage.findMany({
    where: { businessId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit,
    select: {
      id: true,
      kind: true,
      payload: true,
      status: true,
      attempts: true,
      lastError: true,
      createdAt: true,
      sentAt: true,
    },
  });
  return rows.map((row) => {
    const payload = (row.payload ?? {}) as { to?: unknown; subject?: unknown };
    return {
      id: row.id,
      kind: row.kind,
      to: typeof payload.to === "string" ? payload.to : "",
      subject: typeof payload.subject === "string" ? payload.subject : "",
      status: STATUS_SHOWN[row.status],
      attempts: row.attempts,
      lastError: row.lastError,
      createdAt: row.createdAt,
      sentAt: row.sentAt,
    };
  });
}

/**
 * The featured-expiry job: placements whose featured period ended expire and the queue advances
 * (placements.ts), then the businesses whose period ends within three days are reminded (once each).
 */
export async function expireFeaturedPlacements(deps: Pick<CoreDeps, "db" | "env" | "clock">): Promise<JobOutcome> {
  const changes = await expireAndPromote(deps.db, deps.clock());
  const reminded = await emailPlacementsEndingSoon(deps.db, deps.env.MARKETPLACE_TIME_ZONE, deps.clock());
  return {
    summary: `${describeChanges(changes)}; ${reminded} ending-soon ${reminded === 1 ? "reminder" : "reminders"} queued`,
    changes: changes.map((change) => ({
      region: change.regionName,
      expired: change.expired,
      promoted: change.promoted,
    })),
  };
}
