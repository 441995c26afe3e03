// The Reconciliation page's state: the runs (newest first) and the selected run's discrepancies,
// kept live by `reconciliationRunUpdated` (progress while a run is underway, then its result),
// starting a run and resolving discrepancies. The server decides everything; this shows answers.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
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

const NO_ANSWER = "The API returned no answer. Try again.";
/** A run's discrepancies shown at once (the API's page limit): passed as a variable, as every list
 * of the dashboard, so the document's cost is its shape and the server caps the count. */
const DISCREPANCY_PAGE = 500;

export class ReconciliationBoard {
  runs = $state<Run[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  liveError = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  starting = $state(false);
  selectedId = $state<string | null>(null);
  discrepancies = $state<Discrepancy[]>([]);
  moreDiscrepancies = $state(false);
  readonly busy = new SvelteSet<string>();
  readonly rowErrors = new SvelteMap<string, string>();

  readonly #client: Client;
  readonly #live: LiveConnection;
  #detailRequest = 0;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  get selected(): Run | null {
    return this.runs.find((run) => run.id === this.selectedId) ?? null;
  }

  start(): () => void {
    void this.load();
    const events = this.#client.subscription(RunUpdatedSubscription, {}).subscribe((result) => {
      if (result.error) this.liveError = errorMessage(result.error);
      const run = result.data?.reconciliationRunUpdated;
      if (!run) return;
      this.liveError = null;
      const known = this.runs.some((candidate) => candidate.id === run.id);
      this.runs = known
        ? this.runs.map((candidate) => (candidate.id === run.id ? run : candidate))
        : [run, ...this.runs];
      // A run that just finished has its discrepancies now.
      if (run.id === this.selectedId && run.status !== "RUNNING") void this.loadDetail();
    });
    const stopResync = this.#live.onConnected(() => void this.load());
    return () => {
      stopResync();
      events.unsubscribe();
    };
  }

  async load(): Promise<void> {
    const result = await this.#client.query(RunsQuery, { first: 30 }, { requestPolicy: "network-only" }).toPromise();
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    this.runs = result.data?.reconciliationRuns.edges.map((edge) => edge.node) ?? [];
    if (!this.selectedId && this.runs[0]) this.select(this.runs[0].id);
    else if (this.selectedId) void this.loadDetail();
  }

  select(id: string): void {
    this.selectedId = id;
    this.discrepancies = [];
    this.rowErrors.clear();
    void this.loadDetail();
  }

  async loadDetail(): Promise<void> {
    const id = this.selectedId;
    if (!id) return;
    const request = ++this.#detailRequest;
    const result = await this.#client
      .query(RunQuery, { id, discrepancies: DISCREPANCY_PAGE }, { requestPolicy: "network-only" })
      .toPromise();
    if (request !== this.#detailRequest) return;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    const run = result.data?.reconciliationRun;
    if (!run) return;
    const { discrepancies, ...fields } = run;
    this.runs = this.runs.map((candidate) => (candidate.id === id ? fields : candidate));
    this.discrepancies = discrepancies.edges.map((edge) => edge.node);
    this.moreDiscrepancies = discrepancies.pageInfo.hasNextPage;
  }

  /** Starts a run for [from, to) (ISO instants), or the last 7 days when both are null. */
  async startRun(from: string | null, to: string | null): Promise<void> {
    this.starting = true;
    this.notice = null;
    const result = await this.#client.mutation(StartMutation, { from, to }).toPromise();
    this.starting = false;
    const payload = result.data?.startReconciliation;
    if (result.error || !payload || payload.__typename !== "MutationStartReconciliationSuccess") {
      const message = result.error
        ? errorMessage(result.error)
        : payload && "message" in payload
          ? payload.message
          : NO_ANSWER;
      this.notice = { kind: "error", text: message };
      return;
    }
    const run = payload.data;
    if (!this.runs.some((candidate) => candidate.id === run.id)) this.runs = [run, ...this.runs];
    this.select(run.id);
    this.notice = {
      kind: "success",
      text: "Reconciliation started; progress shows below as Stripe's charges are compared.",
    };
  }

  async resolve(discrepancy: Discrepancy, action: FixAction, note: string | null): Promise<boolean> {
    this.busy.add(discrepancy.id);
    this.rowErrors.delete(discrepancy.id);
    this.notice = null;
    const result = await this.#client.mutation(ResolveMutation, { id: discrepancy.id, action, note }).toPromise();
    this.busy.delete(discrepancy.id);
    const payload = result.data?.resolveDiscrepancy;
    if (result.error || !payload || payload.__typename !== "MutationResolveDiscrepancySuccess") {
      const message = result.error
        ? errorMessage(result.error)
        : payload && "message" in payload
          ? payload.message
          : NO_ANSWER;
      this.rowErrors.set(discrepancy.id, message);
      return false;
    }
    const resolved = payload.data;
    this.discrepancies = this.discrepancies.map((candidate) => (candidate.id === resolved.id ? resolved : candidate));
    const placement = resolved.payment?.placement?.status;
    this.notice = {
      kind: "success",
      text: `${fixLabels[action].replace("…", "")}: ${discrepancy.stripeChargeId} resolved${placement ? `; placement ${placement.toLowerCase()}` : ""}.`,
    };
    void this.loadDetail();
    return true;
  }
}
