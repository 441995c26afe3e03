// State of the Health panel: the latest result of each check (live: each healthChanged event
// replaces it) and each check's series over the chosen window, re-read after every run.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
import {
  type CheckName,
  HealthChangedSubscription,
  HealthHistoryQuery,
  type HealthPoint,
  type HealthStatus,
  HealthStatusQuery,
  type HealthWindow,
} from "./health-operations.ts";

/** What each check's value means, for the table and the chart's axis. */
export const checkLabels: Record<CheckName, { title: string; unit: string }> = {
  postgres: { title: "PostgreSQL", unit: "ms" },
  redis: { title: "Redis", unit: "ms" },
  ai_provider: { title: "AI provider", unit: "ms" },
  stripe: { title: "Stripe", unit: "ms" },
  webhooks: { title: "Stripe webhook failures", unit: "failed" },
  jobs: { title: "Jobs", unit: "alerts" },
  api_error_rate: { title: "API error rate (5 min)", unit: "%" },
  api_latency_p95: { title: "API p95 latency (5 min)", unit: "ms" },
  queue_backlog: { title: "Featured queue (largest region)", unit: "queued" },
  refund_rate: { title: "Refund rate (7 days)", unit: "%" },
  postgres_query_p95: { title: "Database p95 of real queries (5 min)", unit: "ms" },
};

export class HealthPanel {
  status = $state<HealthStatus | null>(null);
  series = $state<Partial<Record<CheckName, HealthPoint[]>>>({});
  window = $state<HealthWindow>("LAST_HOUR");
  loading = $state(true);
  error = $state<string | null>(null);
  liveError = $state<string | null>(null);

  readonly #client: Client;
  readonly #live: LiveConnection;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  start(): () => void {
    void this.load();
    const events = this.#client.subscription(HealthChangedSubscription, {}).subscribe((result) => {
      if (result.error) this.liveError = errorMessage(result.error);
      if (result.data) {
        this.liveError = null;
        this.status = result.data.healthChanged;
        void this.loadSeries();
      }
    });
    const stopResync = this.#live.onConnected(() => void this.load());
    return () => {
      stopResync();
      events.unsubscribe();
    };
  }

  async load(): Promise<void> {
    const result = await this.#client.query(HealthStatusQuery, {}, { requestPolicy: "network-only" }).toPromise();
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    if (result.data) this.status = result.data.healthStatus;
    await this.loadSeries();
  }

  async setWindow(window: HealthWindow): Promise<void> {
    this.window = window;
    await this.loadSeries();
  }

  async loadSeries(): Promise<void> {
    const checks = this.status?.checks.map((entry) => entry.check) ?? [];
    const window = this.window;
    const answers = await Promise.all(
      checks.map(async (check) => {
        const result = await this.#client
          .query(HealthHistoryQuery, { check, window }, { requestPolicy: "network-only" })
          .toPromise();
        return [check, result.data?.healthHistory ?? []] as const;
      }),
    );
    if (window === this.window) this.series = Object.fromEntries(answers);
  }
}
