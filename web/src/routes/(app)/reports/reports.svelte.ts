// The Reports page's state: the checkups list and run-now (the run takes a few seconds; its
// report opens when done).
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import { type CheckupSummary, RunWeeklyCheckupMutation, WeeklyCheckupsQuery } from "./report-operations.ts";

export class CheckupList {
  running = $state(false);
  #runError = $state<string | null>(null);

  readonly #client: Client;
  readonly #list;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#list = new LiveQuery({ client, live, query: WeeklyCheckupsQuery, variables: () => ({ first: 52 }) });
  }

  get reports(): CheckupSummary[] {
    return this.#list.data?.weeklyCheckups.edges.map((edge) => edge.node) ?? [];
  }

  get loading(): boolean {
    return this.#list.loading;
  }

  get error(): string | null {
    return this.#runError ?? this.#list.error;
  }

  /** Reads the list; returns the function that stops. */
  start(): () => void {
    return this.#list.start();
  }

  /** Runs a checkup now; returns the new report's id, or null (with `error` set). */
  async runNow(): Promise<string | null> {
    this.running = true;
    this.#runError = null;
    const outcome = await runMutation(this.#client, RunWeeklyCheckupMutation, {}, (data) => data.runWeeklyCheckup);
    this.running = false;
    if (!outcome.ok) {
      this.#runError = outcome.message;
      return null;
    }
    // A new report joins the list.
    await this.#list.refetchNow();
    return outcome.data.id;
  }
}
