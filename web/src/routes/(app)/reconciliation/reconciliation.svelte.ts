// The Reconciliation page's state: the runs (newest first) and the selected run's discrepancies,
// kept live by `reconciliationRunUpdated` (progress while a run is underway, then its result),
// starting a run and resolving discrepancies. The server decides everything; this shows answers.
// Each event carries the run, which the cache updates in place; only a new run re-reads the list.
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  type Discrepancy,
  type FixAction,
  ResolveMutation,
  type Run,
  RunQuery,
  RunsQuery,
  RunUpdatedSubscription,
  StartMutation,
} from "./reconciliation-operations.ts";
import { fixLabels } from "./reconciliation-format.ts";

/** A run's discrepancies shown at once (the API's page limit): passed as a variable, as every list
 * of the dashboard, so the document's cost is its shape and the server caps the count. */
const DISCREPANCY_PAGE = 500;

export class ReconciliationBoard {
  notice = $state<Notice | null>(null);
  starting = $state(false);
  selectedId = $state<string | null>(null);
  readonly busy = new SvelteSet<string>();
  readonly rowErrors = new SvelteMap<string, string>();

  readonly #client: Client;
  readonly #runs;
  /** The selected run's discrepancies: a newer selection replaces the read. */
  readonly #detail;
  #stopDetail: (() => void) | null = null;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#runs = new LiveQuery({
      client,
      live,
      query: RunsQuery,
      variables: () => ({ first: 30 }),
      subscription: RunUpdatedSubscription,
      onEvent: ({ reconciliationRunUpdated: run }) => {
        // A run that just finished has its discrepancies now.
        if (run.id === this.selectedId && run.status !== "RUNNING") this.#detail.refetch(0);
        return !this.runs.some((candidate) => candidate.id === run.id);
      },
      onData: (data) => {
        const first = data.reconciliationRuns.edges[0]?.node;
        if (!this.selectedId && first) this.select(first.id);
      },
      debounceMs: 0,
    });
    this.#detail = new LiveQuery({
      client,
      live,
      query: RunQuery,
      variables: () => ({ id: this.selectedId ?? "", discrepancies: DISCREPANCY_PAGE }),
    });
  }

  /** The selected run as its detail read answers it (none while another run's answer is held). */
  get #selectedDetail() {
    const run = this.#detail.data?.reconciliationRun;
    return run && run.id === this.selectedId ? run : null;
  }

  get discrepancies(): Discrepancy[] {
    return this.#selectedDetail?.discrepancies.edges.map((edge) => edge.node) ?? [];
  }

  get moreDiscrepancies(): boolean {
    return this.#selectedDetail?.discrepancies.pageInfo.hasNextPage ?? false;
  }

  get detailError(): string | null {
    return this.selectedId ? this.#detail.error : null;
  }

  get runs(): Run[] {
    return this.#runs.data?.reconciliationRuns.edges.map((edge) => edge.node) ?? [];
  }

  get loading(): boolean {
    return this.#runs.loading;
  }

  get error(): string | null {
    return this.#runs.error ?? this.detailError;
  }

  get liveError(): string | null {
    return this.#runs.liveError;
  }

  get liveStatus(): LiveStatus {
    return this.#runs.liveStatus;
  }

  get selected(): Run | null {
    return this.runs.find((run) => run.id === this.selectedId) ?? null;
  }

  start(): () => void {
    const stopRuns = this.#runs.start();
    return () => {
      stopRuns();
      this.#stopDetail?.();
      this.#stopDetail = null;
    };
  }

  select(id: string): void {
    this.selectedId = id;
    this.rowErrors.clear();
    this.#stopDetail?.();
    this.#stopDetail = this.#detail.start();
  }

  /** Starts a run for [from, to) (ISO instants), or the last 7 days when both are null. */
  async startRun(from: string | null, to: string | null): Promise<void> {
    this.starting = true;
    this.notice = null;
    const outcome = await runMutation(this.#client, StartMutation, { from, to }, (data) => data.startReconciliation);
    this.starting = false;
    if (!outcome.ok) {
      this.notice = { kind: "error", text: outcome.message };
      return;
    }
    // A new run joins the list.
    await this.#runs.refetchNow();
    this.select(outcome.data.id);
    this.notice = {
      kind: "success",
      text: "Reconciliation started; progress shows below as Stripe's charges are compared.",
    };
  }

  async resolve(discrepancy: Discrepancy, action: FixAction, note: string | null): Promise<boolean> {
    this.busy.add(discrepancy.id);
    this.rowErrors.delete(discrepancy.id);
    this.notice = null;
    const outcome = await runMutation(
      this.#client,
      ResolveMutation,
      { id: discrepancy.id, action, note },
      (data) => data.resolveDiscrepancy,
    );
    this.busy.delete(discrepancy.id);
    if (!outcome.ok) {
      this.rowErrors.set(discrepancy.id, outcome.message);
      return false;
    }
    // The resolved discrepancy comes back in the answer: the cache updates its row in place.
    const resolved = outcome.data;
    const placement = resolved.payment?.placement?.status;
    this.notice = {
      kind: "success",
      text: `${fixLabels[action].replace("…", "")}: ${discrepancy.stripeChargeId} resolved${placement ? `; placement ${placement.toLowerCase()}` : ""}.`,
    };
    this.#detail.refetch(0);
    return true;
  }
}
