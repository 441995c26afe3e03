// The overview page's state: one query for everything, read again when the rollup publishes
// fresh metrics (every minute, and right after a payment), every 30 seconds for alerts (seed
// Part 6.1), and after each websocket reconnect.
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { MetricsUpdatedSubscription, type OverviewData, OverviewQuery } from "./overview-operations.ts";

const ALERT_REFRESH_MS = 30_000;
const REFRESH_DEBOUNCE_MS = 200;

export class OverviewState {
  /** The live read itself: its `loading`, `error` and live status are the page's. */
  readonly query;

  constructor(client: Client, live: LiveConnection) {
    this.query = new LiveQuery({
      client,
      live,
      query: OverviewQuery,
      variables: () => ({ window: "LAST_30_DAYS" as const }),
      // The pushed metrics are a part of the overview only: every event reads it again.
      subscription: MetricsUpdatedSubscription,
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
  }

  get data(): OverviewData | null {
    return this.query.data?.overview ?? null;
  }

  start(): () => void {
    const stop = this.query.start();
    const poll = setInterval(() => this.query.refetch(0), ALERT_REFRESH_MS);
    return () => {
      clearInterval(poll);
      stop();
    };
  }
}
