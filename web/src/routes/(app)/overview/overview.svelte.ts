// The overview page's state: one query for everything, read again when the rollup publishes
// fresh metrics (every minute, and right after a payment), every 30 seconds for alerts (seed
// Part 6.1), and after each websocket reconnect.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
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
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  start(): () => void {
    void this.load();
    const events = this.#client.subscription(MetricsUpdatedSubscription, {}).subscribe((result) => {
      if (result.error) this.liveError = errorMessage(result.error);
      if (result.data) {
        this.liveError = null;
        this.#scheduleRefresh();
      }
    });
    const stopResync = this.#live.onConnected(() => this.#scheduleRefresh());
    const poll = setInterval(() => void this.load(), ALERT_REFRESH_MS);
    return () => {
      clearInterval(poll);
      stopResync();
      events.unsubscribe();
      if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
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

  #scheduleRefresh(): void {
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.load();
    }, REFRESH_DEBOUNCE_MS);
  }
}
