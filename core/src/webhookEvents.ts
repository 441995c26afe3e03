// Stored Stripe webhook events for operators: the list's filter, and replay. A replayed event is
// re-fetched from Stripe (the truth; a stored row Stripe does not know is refused) and re-processed by processStripeEvent, which
// re-fetches the charge and converges on it. Money never moves twice:
//   - processing is idempotent (one payment per charge, one placement per payment, rank-only
//     status moves, the payment row locked while it changes);
//   - a replay claims its event (`replayStartedAt`), so of 30 concurrent replays of one event one
//     re-processes and the others answer ALREADY_REPLAYING. A claim older than CLAIM_STALE_MS is
//     a crashed replay's and is taken over.
// Bad input (no ids, too many, an unknown id, an event Stripe does not have) changes nothing.
import type { Prisma, WebhookEventStatus } from "@steward/db/client";
import type { Actor } from "./actor.ts";
import { recordAudit } from "./audit.ts";
import { DomainError, InvalidInputError, NotFoundError } from "./errors.ts";
import { processStripeEvent, type StripeEventDeps } from "./stripeEvents.ts";
import { assertOperatorCan } from "./permissions.ts";
import { type GatewayEvent, isTransientPaymentsError, type PaymentsGateway } from "./ports/payments.ts";

export interface WebhookEventFilter {
  status?: WebhookEventStatus | null;
  type?: string | null;
  /** The charge's events: those about the charge itself and those about its refunds. */
  chargeId?: string | null;
}

export function webhookEventWhere(filter: WebhookEventFilter | null | undefined): Prisma.StripeWebhookEventWhereInput {
  return {
    ...(filter?.status ? { status: filter.status } : {}),
    ...(filter?.type ? { type: filter.type } : {}),
    ...(filter?.chargeId
      ? {
          OR: [
            { objectId: filter.chargeId },
            { payload: { path: ["data", "object", "charge"], equals: filter.chargeId } },
          ],
        }
      : {}),
  };
}

/** One replay call re-fetches each event from Stripe in turn: a page of the Webhooks list at most. */
export const MAX_REPLAY_EVENTS = 50;
const CLAIM_STALE_MS = 5 * 60_000;

/** Stripe has no event with this id (a row not from Stripe, or from another account). Nothing changed. */
export class WebhookEventNotAtStripeError extends DomainError {
  readonly code = "WEBHOOK_EVENT_NOT_AT_STRIPE";
  constructor(readonly eventId: string) {
    super(`Stripe has no event ${eventId}; nothing was replayed`);
  }
}

/** Stripe could not be reached to re-fetch the events. Nothing changed; try again. */
export class ReplayStripeUnavailableError extends DomainError {
  readonly code = "REPLAY_STRIPE_UNAVAILABLE";
  constructor(detail: string) {
    super(
      `Stripe could not be reached to re-fetch the events; nothing was replayed. Try again. (${detail.slice(0, 200)})`,
    );
  }
}

export type ReplayOutcome = "REPROCESSED" | "ALREADY_REPLAYING" | "FAILED";

export interface EventReplay {
  eventId: string;
  outcome: ReplayOutcome;
  /** What processing did ("payment already up to date", "recorded payment succeeded"…) or why it failed. */
  summary: string;
  /** The event's status after the replay. */
  status: WebhookEventStatus;
}

/** What processing an event needs (the replay re-processes through the same path). */
export type ReplayDeps = StripeEventDeps;

/** Re-fetches from Stripe, then re-processes, each event once; returns one result per distinct id, in order. */
export async function replayStripeEvents(
  deps: ReplayDeps,
  actor: Actor,
  eventIds: readonly string[],
): Promise<EventReplay[]> {
  assertOperatorCan(actor, "operate");
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) throw new InvalidInputError("Choose at least one event to replay", "ids");
  if (ids.length > MAX_REPLAY_EVENTS)
    throw new InvalidInputError(`At most ${MAX_REPLAY_EVENTS} events can be replayed at once`, "ids");
  const stored = await deps.db.stripeWebhookEvent.findMany({ where: { id: { in: ids } }, select: { id: true } });
  const known = new Set(stored.map((row) => row.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing) throw new NotFoundError("StripeWebhookEvent", missing);

  // Every event is confirmed at Stripe before any is touched, so a refusal changes nothing.
  const fetched = new Map<string, GatewayEvent>();
  for (const id of ids) fetched.set(id, await fetchEvent(deps.stripe, id));

  const results: EventReplay[] = [];
  for (const id of ids) results.push(await replayOne(deps, actor, fetched.get(id)!));
  return results;
}

async function fetchEvent(stripe: PaymentsGateway, eventId: string): Promise<GatewayEvent> {
  try {
    return await stripe.events.retrieve(eventId);
  } catch (error) {
    if (isTransientPaymentsError(error)) throw new ReplayStripeUnavailableError(String(error));
    throw new WebhookEventNotAtStripeError(eventId);
  }
}

async function replayOne(deps: ReplayDeps, actor: Actor, event: GatewayEvent): Promise<EventReplay> {
  const { db } = deps;
  const now = new Date();
  const object = event.data.object as { id?: unknown };
  // The claim also puts Stripe's copy of type and object in place: processing reads them.
  const claimed = await db.stripeWebhookEvent.updateMany({
    where: {
      id: event.id,
      OR: [{ replayStartedAt: null }, { replayStartedAt: { lt: new Date(now.getTime() - CLAIM_STALE_MS) } }],
    },
    data: {
      replayStartedAt: now,
      status: "RECEIVED",
      type: event.type,
      objectId: typeof object.id === "string" ? object.id : null,
    },
  });
  if (claimed.count === 0) {
    const current = await db.stripeWebhookEvent.findUniqueOrThrow({
      where: { id: event.id },
      select: { status: true },
    });
    return {
      eventId: event.id,
      outcome: "ALREADY_REPLAYING",
      summary: "Another replay of this event is running; it was not processed twice",
      status: current.status,
    };
  }
  let outcome: ReplayOutcome = "REPROCESSED";
  let summary: string;
  try {
    summary = (await processStripeEvent(deps, event.id)).summary;
  } catch (error) {
    outcome = "FAILED";
    summary = error instanceof Error ? error.message : String(error);
  }
  const after = await db.stripeWebhookEvent.update({
    where: { id: event.id },
    data: { replayStartedAt: null },
    select: { status: true, attempts: true },
  });
  await recordAudit(db, actor, {
    action: "stripe.webhook_replayed",
    targetType: "StripeWebhookEvent",
    targetId: event.id,
    after: {
      type: event.type,
      outcome,
      status: after.status,
      attempts: after.attempts,
      summary: summary.slice(0, 500),
    },
  });
  return { eventId: event.id, outcome, summary, status: after.status };
}
