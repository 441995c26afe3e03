// The Reviews page's state: the moderation queue (filters, Relay pages, selection), its live
// counts, and every decision an operator takes from here (one review, the selected ones one by
// one, or the bulk approval at a threshold). Components only render this and call its methods.
import type { AnyVariables, Client, CombinedError, OperationResult, OperationResultSource } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { followLive, type LiveConnection, type LiveStatus } from "$lib/live.svelte.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  appendReviews,
  checkThreshold,
  describeReasonCounts,
  DEFAULT_THRESHOLD,
  defaultFilter,
  type BusinessChoice,
  type FilterForm,
  formatThreshold,
  mergeRegions,
  type NumberField,
  pluralReviews,
  type RegionChoice,
  reasonLabels,
  toReviewFilter,
} from "./review-format.ts";
import {
  ApproveReviewMutation,
  BulkApprovableCountQuery,
  BulkApproveReviewsMutation,
  type BulkDecisionInput,
  type BulkPreview,
  BulkReviewDecisionPreviewQuery,
  DecideReviewsInBulkMutation,
  type QueueStats,
  type RejectionReason,
  RejectReviewMutation,
  ReopenReviewMutation,
  type Review,
  type ReviewFilter,
  ReviewQueueChangedSubscription,
  ReviewQueueStatsQuery,
  ReviewsQuery,
  type ReviewSort,
  type ReviewStatus,
} from "./review-operations.ts";
import { triageCommand } from "./triage-keys.ts";

/** The outcome of the last action, shown next to where it was taken (the bulk panel or the queue). */
export interface QueueNotice extends Notice {
  scope: "bulk" | "queue";
}

/** A decision that could not be taken, for the report after acting on several reviews. */
export interface Failure {
  id: string;
  label: string;
  message: string;
}

export interface BatchReport {
  summary: string;
  failures: Failure[];
}

export type BulkState =
  | { phase: "idle" }
  | { phase: "counting"; threshold: number }
  | { phase: "confirm"; threshold: number; count: number }
  | { phase: "approving"; threshold: number; count: number };

type Outcome = { ok: true } | { ok: false; message: string };

/** What a server-side bulk decision does, in the words of its confirmation. */
export type BulkChoice =
  { kind: "approve" } | { kind: "reject"; reason: RejectionReason } | { kind: "reject-suggested" };

/** A decision on many reviews at once (the selection, every match, or the suggested ones): preview, confirm, progress. */
export type ManyState =
  | { phase: "idle" }
  | { phase: "previewing"; choice: BulkChoice }
  | { phase: "confirm"; choice: BulkChoice; input: BulkDecisionInput; preview: BulkPreview; scope: string }
  | { phase: "running"; choice: BulkChoice; done: number; total: number };

/** Reviews decided per call of decideReviewsInBulk: small enough to show progress on a large set. */
const BULK_BATCH = 100;

const NO_ANSWER = "The API returned no answer. Try again.";
/** The API serves at most this many reviews per page. */
const MAX_PAGE = 100;
/** Several events in a row (a bulk approval, a burst of submissions) cause one re-read. */
const REFRESH_DEBOUNCE_MS = 250;

/** A union payload (`… on Error { message }`) or a top-level GraphQL error, as one outcome. */
function toOutcome(error: CombinedError | undefined, payload: { __typename: string } | null | undefined): Outcome {
  if (error) return { ok: false, message: errorMessage(error) };
  if (!payload) return { ok: false, message: NO_ANSWER };
  if (payload.__typename.endsWith("Success")) return { ok: true };
  const message = "message" in payload && typeof payload.message === "string" ? payload.message : null;
  return { ok: false, message: message ?? "The API refused this decision." };
}

/**
 * Feeds every result of a query to `onResult` until the first fresh one (a cache-and-network read
 * delivers the cached answer first, marked stale, then the network's), then stops listening.
 */
function untilFresh<Data, Variables extends AnyVariables>(
  source: OperationResultSource<OperationResult<Data, Variables>>,
  onResult: (result: OperationResult<Data, Variables>) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const subscription = source.subscribe((result) => {
      if (done) return;
      onResult(result);
      if (!result.stale || result.error) {
        done = true;
        queueMicrotask(() => subscription.unsubscribe());
        resolve();
      }
    });
  });
}

export function reviewLabel(review: Review): string {
  const body = review.body.length > 40 ? `${review.body.slice(0, 40).trimEnd()}…` : review.body;
  return `“${body}” (${review.business.name})`;
}

export class ReviewQueue {
  // The list.
  reviews = $state<Review[]>([]);
  hasMore = $state(false);
  /** The first page (or a re-read of the loaded pages) is on its way. */
  loading = $state(true);
  loadingMore = $state(false);
  error = $state<string | null>(null);
  /** The filter being edited; `apply()` makes it the list's filter. */
  form = $state<FilterForm>(defaultFilter());
  /** The filter the list shows. */
  applied = $state<FilterForm>(defaultFilter());
  filterError = $state<string | null>(null);
  /** Regions seen in the reviews loaded so far (the API has no region list). */
  regions = $state<RegionChoice[]>([]);

  // The counts.
  stats = $state<QueueStats | null>(null);
  statsError = $state<string | null>(null);
  /** Why the live updates stopped, if they did. */
  liveError = $state<string | null>(null);

  // The threshold of the bulk approval, the "auto-eligible" count and the confidence colours.
  thresholdInput = $state<NumberField>(DEFAULT_THRESHOLD);
  threshold = $state(DEFAULT_THRESHOLD);
  thresholdError = $state<string | null>(null);
  bulk = $state<BulkState>({ phase: "idle" });

  // Decisions.
  readonly selected = new SvelteSet<string>();
  /** Reviews with a decision on its way. */
  readonly busy = new SvelteSet<string>();
  /** Why the last decision on a review failed, shown in its row. */
  readonly rowErrors = new SvelteMap<string, string>();
  notice = $state<QueueNotice | null>(null);
  report = $state<BatchReport | null>(null);
  batchRunning = $state(false);

  // Finding things: the order, how many match, "select all N matching".
  sort = $state<ReviewSort>("OLDEST");
  /** Reviews matching the applied filter (all pages), null until counted. */
  total = $state<number | null>(null);
  /** Every review matching the filter is selected, not only the rows loaded. */
  allMatching = $state(false);
  many = $state<ManyState>({ phase: "idle" });

  // Keyboard triage.
  /** The review the keyboard acts on. */
  currentId = $state<string | null>(null);
  choosingReason = $state(false);
  showHelp = $state(false);
  /** What the keyboard just did, read out by the aria-live region. */
  announcement = $state("");

  readonly #client: Client;
  readonly #live: LiveConnection;
  readonly #pageSize: number;
  #filter: ReviewFilter = { status: "PENDING" };
  #cursor: string | null = null;
  /** Ignores answers to list reads that a newer one replaced. */
  #request = 0;
  #statsRequest = 0;

  constructor(client: Client, live: LiveConnection, pageSize = 50) {
    this.#client = client;
    this.#live = live;
    this.#pageSize = pageSize;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  /** Pending reviews shown that can be selected. */
  get selectable(): Review[] {
    return this.reviews.filter((review) => review.status === "PENDING");
  }

  /** How many reviews the selection holds: every match when "all N matching" is on. */
  get selectionCount(): number {
    return this.allMatching ? (this.total ?? 0) : this.selectedReviews.length;
  }

  get selectedReviews(): Review[] {
    return this.reviews.filter((review) => this.selected.has(review.id) && review.status === "PENDING");
  }

  get allSelected(): boolean {
    const selectable = this.selectable;
    return selectable.length > 0 && selectable.every((review) => this.selected.has(review.id));
  }

  /** Starts the reads and the live counts; returns the function that stops them. */
  start(): () => void {
    void this.#loadStats();
    void this.#readList(true, "cache-and-network");

    const feed = followLive({
      client: this.#client,
      live: this.#live,
      subscription: ReviewQueueChangedSubscription,
      variables: {},
      reload: () => this.refresh(),
      onEvent: (data) => {
        const pushed = data.reviewQueueChanged;
        // The subscription counts at the default threshold; another threshold is read again.
        if (pushed.threshold === this.threshold) {
          this.#statsRequest += 1;
          this.stats = pushed;
          this.statsError = null;
        } else void this.#loadStats();
        return true;
      },
      onFeed: (error) => (this.liveError = error),
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
    // The feed reads the list again after a reconnect; the counts are read again here.
    const stopStatsResync = this.#live.onConnected(() => void this.#loadStats());

    return () => {
      stopStatsResync();
      feed.stop();
    };
  }

  // ── Filters and pages ──

  /** Makes the edited filter the list's filter; false (and nothing read) when it is invalid. */
  apply(): boolean {
    const check = toReviewFilter(this.form);
    if (!check.ok) {
      this.filterError = check.message;
      return false;
    }
    this.filterError = null;
    this.#filter = check.filter;
    this.applied = { ...this.form, business: this.form.business ? { ...this.form.business } : null };
    this.selected.clear();
    this.allMatching = false;
    this.rowErrors.clear();
    this.reviews = [];
    this.hasMore = false;
    this.total = null;
    this.#cursor = null;
    void this.#readList(true, "cache-and-network");
    return true;
  }

  setSort(sort: ReviewSort): void {
    this.sort = sort;
    this.apply();
  }

  setStatus(status: ReviewStatus): void {
    this.form.status = status;
    this.apply();
  }

  filterByBusiness(business: BusinessChoice): void {
    this.form.business = { ...business };
    this.apply();
  }

  clearBusiness(): void {
    this.form.business = null;
    this.apply();
  }

  resetFilters(): void {
    this.form = defaultFilter();
    this.apply();
  }

  /** Reads the pages already shown again (at most 100 reviews), e.g. after a decision. */
  refresh(): Promise<void> {
    return this.#readList(true, "cache-and-network");
  }

  async loadMore(): Promise<void> {
    if (!this.hasMore || this.loadingMore) return;
    await this.#readList(false, "network-only");
  }

  async #readList(replace: boolean, requestPolicy: "cache-and-network" | "network-only"): Promise<void> {
    const request = ++this.#request;
    if (replace) this.loading = true;
    else this.loadingMore = true;
    const first = replace ? Math.min(MAX_PAGE, Math.max(this.#pageSize, this.reviews.length)) : this.#pageSize;
    const after = replace ? null : this.#cursor;
    const source = this.#client.query(
      ReviewsQuery,
      { first, after, filter: this.#filter, sort: this.sort },
      { requestPolicy },
    );
    await untilFresh(source, (result) => {
      if (request !== this.#request) return;
      if (!result.stale) {
        this.loading = false;
        this.loadingMore = false;
      }
      if (result.error) {
        this.error = errorMessage(result.error);
        if (replace) this.reviews = [];
        this.hasMore = false;
        return;
      }
      const connection = result.data?.reviews;
      if (!connection) return;
      this.error = null;
      this.total = result.data?.reviewCount ?? null;
      const page = connection.edges.map((edge) => edge.node);
      this.reviews = replace ? appendReviews([], page) : appendReviews(this.reviews, page);
      this.regions = mergeRegions(this.regions, page);
      const next = connection.pageInfo.endCursor ?? null;
      // A cursor that does not move on would return the same page forever: stop offering more.
      this.hasMore = connection.pageInfo.hasNextPage && next !== null && (replace || next !== this.#cursor);
      this.#cursor = next;
      if (replace) this.#forgetGone();
    });
    if (request === this.#request) {
      this.loading = false;
      this.loadingMore = false;
    }
  }

  /** Selections and row errors of reviews no longer shown (decided, or filtered out) go away. */
  #forgetGone(): void {
    const shown = new Map(this.reviews.map((review) => [review.id, review]));
    for (const id of this.selected) if (shown.get(id)?.status !== "PENDING") this.selected.delete(id);
    for (const id of this.rowErrors.keys()) if (!shown.has(id)) this.rowErrors.delete(id);
  }

  // ── Counts and threshold ──

  async #loadStats(): Promise<void> {
    const request = ++this.#statsRequest;
    const result = await this.#client
      .query(ReviewQueueStatsQuery, { threshold: this.threshold }, { requestPolicy: "network-only" })
      .toPromise();
    if (request !== this.#statsRequest) return;
    if (result.error) this.statsError = errorMessage(result.error);
    else if (result.data) {
      this.statsError = null;
      this.stats = result.data.reviewQueueStats;
    }
  }

  /** Takes the threshold input; the counts are read again at the new threshold. */
  setThreshold(): void {
    const check = checkThreshold(this.thresholdInput);
    if (!check.ok) {
      this.thresholdError = check.message;
      return;
    }
    this.thresholdError = null;
    if (this.bulk.phase === "confirm") this.bulk = { phase: "idle" };
    if (check.threshold === this.threshold) return;
    this.threshold = check.threshold;
    void this.#loadStats();
  }

  // ── Bulk approval at the threshold ──

  /** First step: how many reviews it would approve, shown for confirmation. */
  async prepareBulk(): Promise<void> {
    const check = checkThreshold(this.thresholdInput);
    if (!check.ok) {
      this.thresholdError = check.message;
      return;
    }
    this.setThreshold();
    const threshold = check.threshold;
    this.notice = null;
    this.report = null;
    this.bulk = { phase: "counting", threshold };
    const result = await this.#client
      .query(BulkApprovableCountQuery, { threshold }, { requestPolicy: "network-only" })
      .toPromise();
    if (this.bulk.phase !== "counting" || this.bulk.threshold !== threshold) return;
    if (result.error || result.data === undefined) {
      this.bulk = { phase: "idle" };
      this.notice = { kind: "error", text: result.error ? errorMessage(result.error) : NO_ANSWER, scope: "bulk" };
      return;
    }
    this.bulk = { phase: "confirm", threshold, count: result.data.bulkApprovableCount };
  }

  cancelBulk(): void {
    this.bulk = { phase: "idle" };
  }

  async confirmBulk(): Promise<void> {
    if (this.bulk.phase !== "confirm") return;
    const { threshold, count } = this.bulk;
    this.bulk = { phase: "approving", threshold, count };
    const result = await this.#client.mutation(BulkApproveReviewsMutation, { threshold }).toPromise();
    this.bulk = { phase: "idle" };
    const payload = result.data?.bulkApproveReviews;
    const outcome = toOutcome(result.error, payload);
    if (!outcome.ok) this.notice = { kind: "error", text: outcome.message, scope: "bulk" };
    else if (payload?.__typename === "MutationBulkApproveReviewsSuccess") {
      this.notice = {
        kind: "success",
        text: `Approved ${pluralReviews(payload.data)} with confidence ≥ ${formatThreshold(threshold)}`,
        scope: "bulk",
      };
    }
    await this.#afterDecision();
  }

  // ── One review ──

  approve(review: Review): Promise<boolean> {
    return this.#single(review, () => this.#approveOne(review), "Approved");
  }

  reject(review: Review, reason: RejectionReason, note: string): Promise<boolean> {
    return this.#single(review, () => this.#rejectOne(review, reason, note), `Rejected (${reasonLabels[reason]})`);
  }

  reopen(review: Review, reason: string): Promise<boolean> {
    return this.#single(review, () => this.#reopenOne(review, reason), "Reopened");
  }

  async #single(review: Review, decide: () => Promise<Outcome>, done: string): Promise<boolean> {
    this.busy.add(review.id);
    this.notice = null;
    this.report = null;
    this.rowErrors.delete(review.id);
    const outcome = await decide();
    this.busy.delete(review.id);
    if (outcome.ok) {
      this.selected.delete(review.id);
      this.notice = { kind: "success", text: `${done}: ${reviewLabel(review)}`, scope: "queue" };
    } else this.notice = { kind: "error", text: outcome.message, scope: "queue" };
    await this.#afterDecision();
    return outcome.ok;
  }

  async #approveOne(review: Review): Promise<Outcome> {
    const result = await this.#client
      .mutation(ApproveReviewMutation, { id: review.id, expectedVersion: review.version })
      .toPromise();
    return toOutcome(result.error, result.data?.approveReview);
  }

  async #rejectOne(review: Review, reason: RejectionReason, note: string): Promise<Outcome> {
    const result = await this.#client
      .mutation(RejectReviewMutation, {
        id: review.id,
        reason,
        note: note.trim() || null,
        expectedVersion: review.version,
      })
      .toPromise();
    return toOutcome(result.error, result.data?.rejectReview);
  }

  async #reopenOne(review: Review, reason: string): Promise<Outcome> {
    const result = await this.#client.mutation(ReopenReviewMutation, { id: review.id, reason }).toPromise();
    return toOutcome(result.error, result.data?.reopenReview);
  }

  // ── The selected reviews, one by one ──

  toggle(id: string, on: boolean): void {
    this.allMatching = false;
    if (on) this.selected.add(id);
    else this.selected.delete(id);
  }

  toggleAll(on: boolean): void {
    this.allMatching = false;
    if (!on) this.selected.clear();
    else for (const review of this.selectable) this.selected.add(review.id);
  }

  /** Selects every pending review matching the filter, on every page. */
  selectAllMatching(): void {
    for (const review of this.selectable) this.selected.add(review.id);
    this.allMatching = true;
  }

  // ── Many reviews at once, on the server: preview per reason, confirm, then batches with progress ──

  /** What a bulk decision acts on: every match, the selected rows, or (with no selection) the filter. */
  #bulkTarget(): { input: Pick<BulkDecisionInput, "ids" | "filter">; scope: string } {
    if (this.allMatching)
      return { input: { filter: { ...this.#filter, status: "PENDING" } }, scope: "matching the filter" };
    const ids = this.selectedReviews.map((review) => review.id);
    if (ids.length > 0) return { input: { ids }, scope: "selected" };
    return { input: { filter: { ...this.#filter, status: "PENDING" } }, scope: "matching the filter" };
  }

  async prepareMany(choice: BulkChoice): Promise<void> {
    const { input: target, scope } = this.#bulkTarget();
    const input: BulkDecisionInput =
      choice.kind === "approve"
        ? { ...target, action: "APPROVE" }
        : { ...target, action: "REJECT", reason: choice.kind === "reject" ? choice.reason : "SUGGESTED" };
    this.notice = null;
    this.report = null;
    this.many = { phase: "previewing", choice };
    const result = await this.#client
      .query(BulkReviewDecisionPreviewQuery, { input }, { requestPolicy: "network-only" })
      .toPromise();
    if (this.many.phase !== "previewing") return;
    const preview = result.data?.bulkReviewDecisionPreview;
    if (result.error || !preview) {
      this.many = { phase: "idle" };
      this.notice = { kind: "error", text: result.error ? errorMessage(result.error) : NO_ANSWER, scope: "queue" };
      return;
    }
    this.many = { phase: "confirm", choice, input, preview, scope };
  }

  cancelMany(): void {
    if (this.many.phase !== "running") this.many = { phase: "idle" };
  }

  async confirmMany(): Promise<void> {
    if (this.many.phase !== "confirm") return;
    const { choice, input, preview } = this.many;
    const byReason: Record<RejectionReason, number> = { SPAM: 0, PROFANITY: 0, OFF_TOPIC: 0, OTHER: 0 };
    let done = 0;
    let failure: string | null = null;
    this.many = { phase: "running", choice, done, total: preview.total };
    // Batch after batch until nothing matching is left (or a batch decides nothing: someone else did them).
    for (;;) {
      const result = await this.#client.mutation(DecideReviewsInBulkMutation, { input, limit: BULK_BATCH }).toPromise();
      const payload = result.data?.decideReviewsInBulk;
      const outcome = toOutcome(result.error, payload);
      if (!outcome.ok) {
        failure = outcome.message;
        break;
      }
      if (payload?.__typename !== "MutationDecideReviewsInBulkSuccess") break;
      done += payload.data.decided;
      for (const row of payload.data.byReason) byReason[row.reason] += row.count;
      this.many = { phase: "running", choice, done, total: Math.max(preview.total, done + payload.data.remaining) };
      // A list of ids is done in one call; a filter until nothing matching is left.
      if (input.ids || payload.data.remaining === 0 || payload.data.decided === 0) break;
    }
    this.many = { phase: "idle" };
    this.selected.clear();
    this.allMatching = false;
    const reasons = describeReasonCounts(
      (Object.keys(byReason) as RejectionReason[]).map((reason) => ({ reason, count: byReason[reason] })),
    );
    const verb = choice.kind === "approve" ? "Approved" : "Rejected";
    const text = `${verb} ${pluralReviews(done)}${reasons ? ` (${reasons})` : ""}`;
    this.notice = failure
      ? { kind: "error", text: `${text}; then: ${failure}`, scope: "queue" }
      : { kind: "success", text, scope: "queue" };
    this.announcement = this.notice.text;
    await this.#afterDecision();
  }

  // ── Keyboard triage ──

  get current(): Review | null {
    return this.reviews.find((review) => review.id === this.currentId) ?? null;
  }

  /** Makes a review the keyboard's current one and says which it is. */
  focusReview(id: string | null): void {
    this.currentId = id;
    const review = this.current;
    if (!review) return;
    const position = this.reviews.indexOf(review) + 1;
    const suggestion = review.suggestedReason ? `, suggested ${reasonLabels[review.suggestedReason]}` : "";
    this.announcement = `Review ${position} of ${this.reviews.length}: ${reviewLabel(review)}${suggestion}`;
  }

  /** Runs the command for a key; true when the key was the page's (the caller prevents its default). */
  async handleKey(key: string): Promise<boolean> {
    const command = triageCommand(key, this.choosingReason);
    if (!command) return false;
    if (command.kind === "help") {
      this.showHelp = !this.showHelp;
      return true;
    }
    if (command.kind === "cancel") {
      this.choosingReason = false;
      this.showHelp = false;
      return true;
    }
    if (command.kind === "move") {
      const index = this.reviews.findIndex((review) => review.id === this.currentId);
      const next = index < 0 ? 0 : Math.min(this.reviews.length - 1, Math.max(0, index + command.by));
      this.focusReview(this.reviews[next]?.id ?? null);
      return true;
    }
    const review = this.current ?? this.reviews[0] ?? null;
    if (!review) return true;
    if (command.kind === "select") {
      if (review.status === "PENDING") this.toggle(review.id, !this.selected.has(review.id));
      this.announcement = `${this.selected.has(review.id) ? "Selected" : "Unselected"}: ${reviewLabel(review)}`;
      return true;
    }
    if (review.status !== "PENDING") {
      this.announcement = "This review is already decided; reopen it from its row.";
      return true;
    }
    if (command.kind === "choose-reason") {
      this.choosingReason = true;
      this.announcement = "Reject: press 1 Spam, 2 Profanity, 3 Off topic, 4 Other, or Escape";
      return true;
    }
    this.choosingReason = false;
    const index = this.reviews.indexOf(review);
    const ok = command.kind === "approve" ? await this.approve(review) : await this.reject(review, command.reason, "");
    if (ok) {
      // Focus moves on to the next pending review (the decided one left the pending list).
      const after = this.reviews
        .slice(index)
        .find((candidate) => candidate.status === "PENDING" && candidate.id !== review.id);
      this.focusReview(after?.id ?? this.selectable[0]?.id ?? null);
      if (this.notice) this.announcement = `${this.notice.text}. ${this.announcement}`;
    } else if (this.notice) this.announcement = this.notice.text;
    return true;
  }

  approveSelected(): Promise<void> {
    return this.#batch("approve", "approved", (review) => this.#approveOne(review));
  }

  rejectSelected(reason: RejectionReason, note: string): Promise<void> {
    return this.#batch("reject", "rejected", (review) => this.#rejectOne(review, reason, note));
  }

  async #batch(verb: string, past: string, decide: (review: Review) => Promise<Outcome>): Promise<void> {
    const targets = this.selectedReviews;
    if (targets.length === 0 || this.batchRunning) return;
    this.batchRunning = true;
    this.notice = null;
    this.report = null;
    const failures: Failure[] = [];
    for (const review of targets) {
      this.busy.add(review.id);
      this.rowErrors.delete(review.id);
      const outcome = await decide(review);
      this.busy.delete(review.id);
      if (outcome.ok) this.selected.delete(review.id);
      else {
        this.rowErrors.set(review.id, outcome.message);
        failures.push({ id: review.id, label: reviewLabel(review), message: outcome.message });
      }
    }
    this.batchRunning = false;
    const succeeded = targets.length - failures.length;
    if (failures.length === 0) {
      this.notice = {
        kind: "success",
        text: `${past[0]?.toUpperCase()}${past.slice(1)} ${pluralReviews(succeeded)}`,
        scope: "queue",
      };
    } else {
      this.report = {
        summary:
          succeeded > 0
            ? `${past[0]?.toUpperCase()}${past.slice(1)} ${succeeded} of ${pluralReviews(targets.length)}; could not ${verb} ${failures.length}:`
            : `Could not ${verb} ${pluralReviews(failures.length)}:`,
        failures,
      };
    }
    await this.#afterDecision();
  }

  /** The list and the counts are read again after any decision (the subscription may be down). */
  async #afterDecision(): Promise<void> {
    await Promise.all([this.refresh(), this.#loadStats()]);
  }
}
