// How the Placements page words a region's slots and queue.
import { formatDateTime } from "$lib/format.ts";
import type { QueueAnswer, Region } from "./placement-operations.ts";

export interface SlotUsage {
  active: number;
  slots: number;
  waiting: number;
  /** Free slots (never negative). */
  free: number;
  /** "4 / 5 active" */
  label: string;
  /** Free slots while businesses wait: they are promoted at the next daily run (or the job is late). */
  promotionPending: boolean;
  /** More active placements than slots: a double-booked slot (the consistency check's finding). */
  overbooked: boolean;
}

export function slotUsage(region: Region): SlotUsage {
  const active = region.activePlacements.length;
  const slots = region.featuredSlots;
  const waiting = region.queue.length;
  const free = Math.max(0, slots - active);
  return {
    active,
    slots,
    waiting,
    free,
    label: `${active} / ${slots} active`,
    promotionPending: free > 0 && waiting > 0,
    overbooked: active > slots,
  };
}

/** The active placement that ends first (activePlacements come ordered by featuredUntil). */
export function nextExpiry(region: Region): string | null {
  return region.activePlacements[0]?.featuredUntil ?? null;
}

export function isPast(iso: string | null | undefined, now: number): boolean {
  return iso ? new Date(iso).getTime() <= now : false;
}

export function waitingLabel(count: number): string {
  return count === 0 ? "Nobody waiting" : count === 1 ? "1 waiting" : `${count} waiting`;
}

/** "A (bought 3 Dec 2025, 14:30:00), B (bought …) and 12 more": the businesses ahead, oldest purchase first. */
export function aheadList(ahead: QueueAnswer["businessesAhead"], shown = 5): string {
  const named = ahead
    .slice(0, shown)
    .map((business) => `${business.name} (bought ${formatDateTime(business.purchasedAt)})`)
    .join(", ");
  return ahead.length > shown ? `${named} and ${ahead.length - shown} more` : named;
}
