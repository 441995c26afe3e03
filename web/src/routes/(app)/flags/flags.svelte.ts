// State of the Flags page: the flags (kept fresh: every health-checks run may have let the
// automation switch AI_MODE or propose switching back, so each healthChanged re-reads them),
// setting a flag with a reason, and, for ADMINs, the alert rules and their thresholds.
import type { Client, CombinedError } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
import type { Notice } from "$lib/notice.ts";
import {
  type AlertRule,
  AlertRulesQuery,
  type Flag,
  FlagsQuery,
  HealthChangedForFlags,
  SetFeatureFlagMutation,
  UpdateAlertRuleMutation,
} from "./flag-operations.ts";
import { thresholdProblem } from "./threshold-input.ts";

const NO_ANSWER = "The API returned no answer. Try again.";

function outcome(
  error: CombinedError | undefined,
  payload: { __typename: string; message?: string } | undefined,
): string | null {
  if (error) return errorMessage(error);
  if (!payload) return NO_ANSWER;
  return payload.__typename.endsWith("Success") ? null : (payload.message ?? NO_ANSWER);
}

export class FlagsPage {
  flags = $state<Flag[]>([]);
  rules = $state<AlertRule[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  liveError = $state<string | null>(null);
  flagNotice = $state<Notice | null>(null);
  ruleNotice = $state<Notice | null>(null);
  pending = $state<string | null>(null);

  readonly #client: Client;
  readonly #live: LiveConnection;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  start(withRules: boolean): () => void {
    void this.loadFlags();
    if (withRules) void this.loadRules();
    const events = this.#client.subscription(HealthChangedForFlags, {}).subscribe((result) => {
      if (result.error) this.liveError = errorMessage(result.error);
      if (result.data) {
        this.liveError = null;
        void this.loadFlags();
      }
    });
    const stopResync = this.#live.onConnected(() => void this.loadFlags());
    return () => {
      stopResync();
      events.unsubscribe();
    };
  }

  async loadFlags(): Promise<void> {
    const result = await this.#client.query(FlagsQuery, {}, { requestPolicy: "network-only" }).toPromise();
    this.loading = false;
    if (result.error) this.error = errorMessage(result.error);
    else if (result.data) {
      this.error = null;
      this.flags = result.data.featureFlags;
    }
  }

  async loadRules(): Promise<void> {
    const result = await this.#client.query(AlertRulesQuery, {}, { requestPolicy: "network-only" }).toPromise();
    if (result.error) this.ruleNotice = { kind: "error", text: errorMessage(result.error) };
    else if (result.data) this.rules = result.data.alertRules;
  }

  async setFlag(key: string, value: string, reason: string): Promise<boolean> {
    if (reason.trim().length < 3) {
      this.flagNotice = { kind: "error", text: "Say why you switch it (at least 3 characters)." };
      return false;
    }
    this.pending = key;
    this.flagNotice = null;
    const result = await this.#client.mutation(SetFeatureFlagMutation, { key, value, reason }).toPromise();
    this.pending = null;
    const problem = outcome(result.error, result.data?.setFeatureFlag);
    if (problem) {
      this.flagNotice = { kind: "error", text: problem };
      return false;
    }
    this.flagNotice = { kind: "success", text: `${key} is now '${value}'.` };
    await this.loadFlags();
    return true;
  }

  async saveRule(rule: AlertRule, enabled: boolean, typed: Record<string, string>): Promise<boolean> {
    const problems = rule.thresholds.flatMap((threshold) => {
      const problem = thresholdProblem(threshold, typed[threshold.name] ?? String(threshold.value));
      return problem ? [problem] : [];
    });
    if (problems.length > 0) {
      this.ruleNotice = { kind: "error", text: `${rule.title}: ${problems.join("; ")}` };
      return false;
    }
    this.pending = rule.key;
    this.ruleNotice = null;
    const thresholds = rule.thresholds.map((threshold) => ({
      name: threshold.name,
      value: Number(typed[threshold.name] ?? threshold.value),
    }));
    const result = await this.#client
      .mutation(UpdateAlertRuleMutation, { ruleKey: rule.key, enabled, thresholds })
      .toPromise();
    this.pending = null;
    const problem = outcome(result.error, result.data?.updateAlertRule);
    if (problem) {
      this.ruleNotice = { kind: "error", text: `${rule.title}: ${problem}` };
      return false;
    }
    this.ruleNotice = { kind: "success", text: `Saved ${rule.title}.` };
    await this.loadRules();
    return true;
  }
}
