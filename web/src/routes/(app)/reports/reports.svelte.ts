// The Reports page's state: the checkups list and run-now (the run takes a few seconds; its
// report opens when done).
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { type CheckupSummary, RunWeeklyCheckupMutation, WeeklyCheckupsQuery } from "./report-operations.ts";

export class CheckupList {
  reports = $state<CheckupSummary[]>([]);
  loading = $state(true);
  running = $state(false);
  error = $state<string | null>(null);

  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const result = await this.#client
      .query(WeeklyCheckupsQuery, { first: 52 }, { requestPolicy: "network-only" })
      .toPromise();
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    this.reports = result.data?.weeklyCheckups.edges.map((edge) => edge.node) ?? [];
  }

  /** Runs a checkup now; returns the new report's id, or null (with `error` set). */
  async runNow(): Promise<string | null> {
    this.running = true;
    this.error = null;
    const result = await this.#client.mutation(RunWeeklyCheckupMutation, {}).toPromise();
    this.running = false;
    const payload = result.data?.runWeeklyCheckup;
    if (result.error || !payload || payload.__typename !== "MutationRunWeeklyCheckupSuccess") {
      this.error = result.error
        ? errorMessage(result.error)
        : payload && "message" in payload
          ? payload.message
          : "The API returned no answer. Try again.";
      return null;
    }
    await this.load();
    return payload.data.id;
  }
}
