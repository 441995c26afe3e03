// State of the Health panel: the latest result of each check (live: each healthChanged event
// replaces it in the cache, which keeps one current status) and each check's series over the
// chosen window, re-read after every run.
import type { Client } from "@urql/core";
import { LiveQuery, readOnce } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
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
  series = $state<Partial<Record<CheckName, HealthPoint[]>>>({});
  window = $state<HealthWindow>("LAST_HOUR");

  readonly #client: Client;
  /** The live read itself: its `loading`, `error` and live status are the page's. */
  readonly query;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.query = new LiveQuery({
      client,
      live,
      query: HealthStatusQuery,
      variables: () => ({}),
      subscription: HealthChangedSubscription,
      // The event carries the whole status: it replaces the one shown, nothing to read again.
      onEvent: () => false,
      // A new status means a new run: its points join the series.
      onData: () => void this.loadSeries(),
    });
  }

  get status(): HealthStatus | null {
    return this.query.data?.healthStatus ?? null;
  }

  start(): () => void {
    return this.query.start();
  }

  async setWindow(window: HealthWindow): Promise<void> {
    this.window = window;
    await this.loadSeries();
  }

  /** Reads each check's series afresh (after each run, or for another window); the newest window wins. */
  async loadSeries(): Promise<void> {
    const checks = this.status?.checks.map((entry) => entry.check) ?? [];
    const window = this.window;
    const answers = await Promise.all(
      checks.map(async (check) => {
        const outcome = await readOnce(this.#client, HealthHistoryQuery, { check, window });
        return [check, outcome.ok ? outcome.data.healthHistory : []] as const;
      }),
    );
    if (window === this.window) this.series = Object.fromEntries(answers);
  }
}
