// The maintenance windows panel's state (ADMIN): the windows, the rules one may mute, declaring
// and ending a window. The server validates; this shows its answers.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
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
  windows = $state<MaintenanceWindow[]>([]);
  rules = $state<AlertRuleChoice[]>([]);
  error = $state<string | null>(null);
  loading = $state(true);

  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const [windows, rules] = await Promise.all([
      this.#client.query(MaintenanceWindowsQuery, {}, { requestPolicy: "network-only" }).toPromise(),
      this.#client.query(AlertRuleChoicesQuery, {}).toPromise(),
    ]);
    this.loading = false;
    const failure = windows.error ?? rules.error;
    this.error = failure ? errorMessage(failure) : null;
    this.windows = windows.data?.maintenanceWindows ?? [];
    this.rules = rules.data?.alertRules ?? [];
  }

  /** The error to show, or null when the window was declared. */
  async schedule(input: MaintenanceWindowInput): Promise<string | null> {
    const result = await this.#client.mutation(ScheduleMaintenanceWindowMutation, { input }).toPromise();
    const payload = result.data?.scheduleMaintenanceWindow;
    if (result.error || !payload) return result.error ? errorMessage(result.error) : "No answer.";
    if (payload.__typename !== "MutationScheduleMaintenanceWindowSuccess")
      return "message" in payload ? payload.message : "Refused.";
    await this.load();
    return null;
  }

  async end(window: MaintenanceWindow): Promise<void> {
    const result = await this.#client.mutation(EndMaintenanceWindowMutation, { id: window.id }).toPromise();
    const payload = result.data?.endMaintenanceWindow;
    if (result.error || payload?.__typename !== "MutationEndMaintenanceWindowSuccess") {
      this.error = result.error
        ? errorMessage(result.error)
        : payload && "message" in payload
          ? payload.message
          : "No answer.";
      return;
    }
    await this.load();
  }
}
