// The Placements page's regions: slots, active placements and FIFO queues, read in one query and
// read again when the daily expiry-and-promotion job finishes a run (the only thing besides a
// purchase or a refund that moves them). An ADMIN can change a region's slot count.
import type { Client } from "@urql/core";
import { JobRunRecordedSubscription } from "$lib/job-runs.ts";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import { type Region, RegionsQuery, SetRegionSlotsMutation } from "./placement-operations.ts";

export const PROMOTION_JOB = "featured-expiry-and-promotion";
export const MAX_SLOTS = 100;

/** Why a slot count cannot be sent, or null when it can (the server checks again). */
export function slotsProblem(value: number | null | undefined): string | null {
  if (value === null || value === undefined || !Number.isInteger(value) || value < 1 || value > MAX_SLOTS) {
    return `Enter a whole number of slots from 1 to ${MAX_SLOTS}.`;
  }
  return null;
}

export class PlacementBoard {
  loadedAt = $state<number | null>(null);
  /** Regions whose slot change is on its way. */
  readonly slotsBusy = new SvelteSet<string>();
  /** The last slot change's outcome, per region. */
  readonly slotsNotice = new SvelteMap<string, Notice>();

  readonly #client: Client;
  readonly #regions;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#regions = new LiveQuery({
      client,
      live,
      query: RegionsQuery,
      variables: () => ({}),
      subscription: JobRunRecordedSubscription,
      // Only a finished promotion run moves placements; other jobs' runs are not this page's.
      onEvent: ({ jobRunRecorded: run }) => run.jobName === PROMOTION_JOB && run.status === "SUCCEEDED",
      onData: () => (this.loadedAt = Date.now()),
      debounceMs: 0,
    });
  }

  get regions(): Region[] {
    return this.#regions.data?.regions ?? [];
  }

  get loading(): boolean {
    return this.#regions.loading;
  }

  get error(): string | null {
    return this.#regions.error;
  }

  /** Loads the regions and re-reads them after every finished promotion run; returns the stop function. */
  start(): () => void {
    return this.#regions.start();
  }

  /** Reads the regions again now (the Refresh button, and after a purchase or a refund). */
  load(): Promise<void> {
    return this.#regions.refetchNow();
  }

  /** ADMIN: sets the region's featured slots. Resolves true when the server accepted it. */
  async setSlots(region: Region, slots: number | null): Promise<boolean> {
    const problem = slotsProblem(slots);
    if (problem !== null || slots === null) {
      this.slotsNotice.set(region.id, { kind: "error", text: problem ?? "Enter a number of slots." });
      return false;
    }
    this.slotsBusy.add(region.id);
    this.slotsNotice.delete(region.id);
    const outcome = await runMutation(
      this.#client,
      SetRegionSlotsMutation,
      { regionId: region.id, slots },
      (data) => data.setRegionSlots,
    );
    this.slotsBusy.delete(region.id);
    if (!outcome.ok) {
      this.slotsNotice.set(region.id, { kind: "error", text: outcome.message });
      return false;
    }
    // The answer carries the region: the cache updates its row.
    const updated = outcome.data;
    const waiting = updated.queue.length;
    const free = updated.featuredSlots - updated.activePlacements.length;
    this.slotsNotice.set(region.id, {
      kind: "success",
      text:
        `${updated.name} now has ${updated.featuredSlots} featured slots.` +
        (free > 0 && waiting > 0
          ? ` The ${Math.min(free, waiting)} free slot(s) are filled from the queue at the next ${PROMOTION_JOB} run.`
          : ""),
    });
    return true;
  }
}
