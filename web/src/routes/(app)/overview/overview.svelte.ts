// The overview page's state: one query for everything, read again when the rollup publishes
// fresh metrics (every minute, and right after a payment), every 30 seconds for alerts (seed
// Part 6.1), and after each websocket reconnect.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { followLive, type LiveConnection, type LiveStatus } from "$lib/live.svelte.ts";
import { MetricsUpdatedSubscription, type OverviewData, OverviewQuery } from "./overview-operations.ts";

const ALERT_REFRESH_MS = 30_000;
const REFRESH_DEBOUNCE_MS = 200;

export class OverviewState {
  data = $state<OverviewData | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  liveError = $state<string | null>(null);

  readonly #client: Client;
  readonly #live: LiveConnection;
  #request = 0;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  start(): () => void {
    void this.load();
    const feed = followLive({
      client: this.#client,
      live: this.#live,
      subscription: MetricsUpdatedSubscription,
      variables: {},
      reload: () => this.load(),
      onFeed: (error) => (this.liveError = error),
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
    const poll = setInterval(() => void this.load(), ALERT_REFRESH_MS);
    return () => {
      clearInterval(poll);
      feed.stop();
    };
  }

  async load(): Promise<void> {
    const request = ++this.#request;
    const result = await this.#client
      .query(OverviewQuery, { window: "LAST_30_DAYS" }, { requestPolicy: "network-only" })
      .toPromise();
    if (request !== this.#request) return;
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    if (result.data) this.data = result.data.overview;
  }
}
