// The maintenance windows panel's state (ADMIN): the windows, the rules one may mute, declaring
// and ending a window. The server validates; this shows its answers. A declared window joins the
// list and an ended one moves to the ended ones below, so the list is read again after either (the
// ended window's new state is in the mutation's answer, written into its row by the cache first).
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import {
  type AlertRuleChoice,
  AlertRuleChoicesQuery,
  EndMaintenanceWindowMutation,
  type MaintenanceWindow,
  type MaintenanceWindowInput,
  MaintenanceWindowsQuery,
  ScheduleMaintenanceWindowMutation,
} from "./maintenance-operations.ts";

export class MaintenanceSchedule {
  #endError = $state<string | null>(null);

  readonly #client: Client;
  readonly #windows;
  readonly #rules;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#windows = new LiveQuery({ client, live, query: MaintenanceWindowsQuery, variables: () => ({}) });
    this.#rules = new LiveQuery({ client, live, query: AlertRuleChoicesQuery, variables: () => ({}) });
  }

  get windows(): MaintenanceWindow[] {
    return this.#windows.data?.maintenanceWindows ?? [];
  }

  get rules(): AlertRuleChoice[] {
    return this.#rules.data?.alertRules ?? [];
  }

  get loading(): boolean {
    return this.#windows.loading || this.#rules.loading;
  }

  get error(): string | null {
    return this.#endError ?? this.#windows.error ?? this.#rules.error;
  }

  /** Reads the windows and the rules; returns the function that stops. */
  start(): () => void {
    const stopWindows = this.#windows.start();
    const stopRules = this.#rules.start();
    return () => {
      stopWindows();
      stopRules();
    };
  }

  /** The error to show, or null when the window was declared. */
  async schedule(input: MaintenanceWindowInput): Promise<string | null> {
    const outcome = await runMutation(
      this.#client,
      ScheduleMaintenanceWindowMutation,
      { input },
      (data) => data.scheduleMaintenanceWindow,
    );
    if (!outcome.ok) return outcome.message;
    this.#endError = null;
    await this.#windows.refetchNow();
    return null;
  }

  async end(window: MaintenanceWindow): Promise<void> {
    const outcome = await runMutation(
      this.#client,
      EndMaintenanceWindowMutation,
      { id: window.id },
      (data) => data.endMaintenanceWindow,
    );
    this.#endError = outcome.ok ? null : outcome.message;
    if (outcome.ok) await this.#windows.refetchNow();
  }
}
