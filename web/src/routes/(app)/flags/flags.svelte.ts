// State of the Flags page: the flags (kept fresh: every health-checks run may have let the
// automation switch AI_MODE or propose switching back, so each healthChanged re-reads them),
// setting a flag with a reason, and, for ADMINs, the alert rules and their thresholds.
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
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

export class FlagsPage {
  flagNotice = $state<Notice | null>(null);
  #ruleNotice = $state<Notice | null>(null);
  pending = $state<string | null>(null);

  readonly #client: Client;
  /** The live read itself: its `loading`, `error` and live status are the page's. */
  readonly query;
  readonly #rules;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    // No row in the event: every health-checks run reads the flags again.
    this.query = new LiveQuery({
      client,
      live,
      query: FlagsQuery,
      variables: () => ({}),
      subscription: HealthChangedForFlags,
    });
    this.#rules = new LiveQuery({ client, live, query: AlertRulesQuery, variables: () => ({}) });
  }

  get flags(): Flag[] {
    return this.query.data?.featureFlags ?? [];
  }

  get rules(): AlertRule[] {
    return this.#rules.data?.alertRules ?? [];
  }

  /** The last rule change's outcome, or why the rules could not be read. */
  get ruleNotice(): Notice | null {
    const error = this.#rules.error;
    return this.#ruleNotice ?? (error ? { kind: "error", text: error } : null);
  }

  start(withRules: boolean): () => void {
    const stopFlags = this.query.start();
    const stopRules = withRules ? this.#rules.start() : () => {};
    return () => {
      stopFlags();
      stopRules();
    };
  }

  async setFlag(key: string, value: string, reason: string): Promise<boolean> {
    if (reason.trim().length < 3) {
      this.flagNotice = { kind: "error", text: "Say why you switch it (at least 3 characters)." };
      return false;
    }
    this.pending = key;
    this.flagNotice = null;
    const outcome = await runMutation(
      this.#client,
      SetFeatureFlagMutation,
      { key, value, reason },
      (data) => data.setFeatureFlag,
    );
    this.pending = null;
    if (!outcome.ok) {
      this.flagNotice = { kind: "error", text: outcome.message };
      return false;
    }
    this.flagNotice = { kind: "success", text: `${key} is now '${value}'.` };
    await this.query.refetchNow();
    return true;
  }

  async saveRule(rule: AlertRule, enabled: boolean, typed: Record<string, string>): Promise<boolean> {
    const problems = rule.thresholds.flatMap((threshold) => {
      const problem = thresholdProblem(threshold, typed[threshold.name] ?? String(threshold.value));
      return problem ? [problem] : [];
    });
    if (problems.length > 0) {
      this.#ruleNotice = { kind: "error", text: `${rule.title}: ${problems.join("; ")}` };
      return false;
    }
    this.pending = rule.key;
    this.#ruleNotice = null;
    const thresholds = rule.thresholds.map((threshold) => ({
      name: threshold.name,
      value: Number(typed[threshold.name] ?? threshold.value),
    }));
    const outcome = await runMutation(
      this.#client,
      UpdateAlertRuleMutation,
      { ruleKey: rule.key, enabled, thresholds },
      (data) => data.updateAlertRule,
    );
    this.pending = null;
    if (!outcome.ok) {
      this.#ruleNotice = { kind: "error", text: `${rule.title}: ${outcome.message}` };
      return false;
    }
    this.#ruleNotice = { kind: "success", text: `Saved ${rule.title}.` };
    await this.#rules.refetchNow();
    return true;
  }
}
