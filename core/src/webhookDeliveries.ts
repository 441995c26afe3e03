// Stripe webhook deliveries counted in Redis per 5-minute window, by outcome, shared by every API
// instance. Rejections are counted rather than audited one by one (a flood of unsigned posts
// must not write a row each): the first rejection of each window is audited, with its reason, and
// the window's counts feed the webhooks health check, whose rule tells a wrong
// STRIPE_WEBHOOK_SECRET (every signed delivery refused, none accepted) within minutes.
import type { SharedStore } from "./ports/sharedStore.ts";

export const DELIVERY_WINDOW_MS = 5 * 60_000;
/** Windows are kept this long: the rule looks back at most an hour. */
const KEEP_MS = 2 * 60 * 60_000;

/**
 * Why a delivery was refused. `bad_signature` carries a well-formed Stripe-Signature that does
 * not match: what a wrong secret (or a forger) produces; `unsigned` has none, `stale` is outside
 * the tolerance, `malformed` is not a Stripe event.
 */
export type RejectionKind = "unsigned" | "bad_signature" | "stale" | "malformed" | "rate_limited" | "too_large";
export type DeliveryOutcome = "accepted" | RejectionKind;

export function rejectionKindOf(reason: string, signaturePresent: boolean): RejectionKind {
  if (!signaturePresent) return "unsigned";
  if (/timestamp/i.test(reason)) return "stale";
  if (/signature/i.test(reason)) return "bad_signature";
  return "malformed";
}

const windowKey = (prefix: string, windowStart: number) => `${prefix}:stripe-webhooks:${windowStart}`;

/** Counts one delivery. For a rejection, says whether it is its window's first (the one audited). */
export async function countDelivery(
  redis: SharedStore,
  prefix: string,
  outcome: DeliveryOutcome,
  now = Date.now(),
): Promise<{ firstRejectionOfWindow: boolean; windowStart: Date }> {
  const start = now - (now % DELIVERY_WINDOW_MS);
  const key = windowKey(prefix, start);
  const counts = redis.multi().hincrby(key, outcome, 1);
  if (outcome !== "accepted") counts.hincrby(key, "rejected", 1);
  const replies = await counts.pexpire(key, KEEP_MS).exec();
  const rejectedSoFar = outcome === "accepted" ? 0 : Number(replies?.[1]?.[1] ?? 0);
  return { firstRejectionOfWindow: rejectedSoFar === 1, windowStart: new Date(start) };
}

/** Deliveries by outcome over the windows that overlap the last `minutes`. */
export async function deliveriesSince(
  redis: SharedStore,
  prefix: string,
  minutes: number,
  now = Date.now(),
): Promise<Record<DeliveryOutcome | "rejected", number>> {
  const totals: Record<DeliveryOutcome | "rejected", number> = {
    accepted: 0,
    rejected: 0,
    unsigned: 0,
    bad_signature: 0,
    stale: 0,
    malformed: 0,
    rate_limited: 0,
    too_large: 0,
  };
  const current = now - (now % DELIVERY_WINDOW_MS);
  for (let start = current; start > now - minutes * 60_000 - DELIVERY_WINDOW_MS; start -= DELIVERY_WINDOW_MS) {
    const window = await redis.hgetall(windowKey(prefix, start));
    for (const [outcome, count] of Object.entries(window))
      if (outcome in totals) totals[outcome as keyof typeof totals] += Number(count);
  }
  return totals;
}
