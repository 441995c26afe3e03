// The Placements page's regions: slots, active placements and FIFO queues, read in one query and
// read again when the daily expiry-and-promotion job finishes a run (the only thing besides a
// purchase or a refund that moves them). An ADMIN can change a region's slot count.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { JobRunRecordedSubscription } from "$lib/job-runs.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import { type Region, RegionsQuery, SetRegionSlotsMutation } from "./placement-operations.ts";

export const PROMOTION_JOB = "featured-expiry-and-promotion";
export const MAX_SLOTS = 100;
const NO_ANSWER = "The API returned no answer. Try again.";

/** Why a slot count cannot be sent, or null when it can (the server checks again). */
export function slotsProblem(value: number | null | undefined): string | null {
  if (value === null || value === undefined || !Number.isInteger(value) || value < 1 || value > MAX_SLOTS) {
    return `Enter a whole number of slots from 1 to ${MAX_SLOTS}.`;
  }
  return null;
}

export class PlacementBoard {
  regions = $state<Region[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  loadedAt = $state<number | null>(null);
  /** Regions whose slot change is on its way. */
  readonly slotsBusy = new SvelteSet<string>();
  /** The last slot change's outcome, per region. */
  readonly slotsNotice = new SvelteMap<string, Notice>();

  readonly #client: Client;
  readonly #live: LiveConnection;
  #request = 0;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  /** Loads the regions and re-reads them after every finished promotion run; returns the stop function. */
  start(): () => void {
    void this.load();
    const events = this.#client.subscription(JobRunRecordedSubscription, {}).subscribe((result) => {
      const run = result.data?.jobRunRecorded;
      if (run && run.jobName === PROMOTION_JOB && run.status === "SUCCEEDED") void this.load();
    });
    // Runs that finished while the socket was down published nothing we saw: read again.
    const stopResync = this.#live.onConnected(() => {
      if (this.loadedAt !== null) void this.load();
    });
    return () => {
      stopResync();
      events.unsubscribe();
    };
  }

  async load(): Promise<void> {
    const request = ++this.#request;
    const result = await this.#client.query(RegionsQuery, {}, { requestPolicy: "network-only" }).toPromise();
    if (request !== this.#request) return;
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    this.regions = result.data?.regions ?? [];
    this.loadedAt = Date.now();
  }

  /** ADMIN: sets the region's featured slots. Resolves true when the server accepted it. */
  async setSlots(region: Region, slots: number | null): Promise<boolean> {
    const problem = slotsProblem(slots);
    if (problem !== null || slots === null) {
      this.slotsNotice.set(region.id, { kind: "error", text: problem ?? NO_ANSWER });
      return false;
    }
    this.slotsBusy.add(region.id);
    this.slotsNotice.delete(region.id);
    const result = await this.#client.mutation(SetRegionSlotsMutation, { regionId: region.id, slots }).toPromise();
    this.slotsBusy.delete(region.id);
    const outcome = result.data?.setRegionSlots;
    if (result.error) {
      this.slotsNotice.set(region.id, { kind: "error", text: errorMessage(result.error) });
      return false;
    }
    if (!outcome) {
      this.slotsNotice.set(region.id, { kind: "error", text: NO_ANSWER });
      return false;
    }
    if (outcome.__typename !== "MutationSetRegionSlotsSuccess") {
      const issue = outcome.__typename === "ValidationError" ? outcome.issues[0]?.message : undefined;
      this.slotsNotice.set(region.id, {
        kind: "error",
        text: issue ? `${outcome.message}: ${issue}` : outcome.message,
      });
      return false;
    }
    const updated = outcome.data;
    this.regions = this.regions.map((known) => (known.id === updated.id ? updated : known));
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
