// The Reviews page's list: the filter being edited and the one applied, the order, the Relay pages
// loaded so far (the shared PagedQuery), and the queue's counts at the operator's threshold, kept
// live by `reviewQueueChanged`. The counts come with each event and update in place (the cache keys
// them by threshold); an event also means reviews arrived or were decided, so the pages shown are
// read again then (their membership changed), and after every reconnect.
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
import { PagedQuery } from "$lib/paged-query.svelte.ts";
import {
  type BusinessChoice,
  checkThreshold,
  DEFAULT_THRESHOLD,
  defaultFilter,
  type FilterForm,
  mergeRegions,
  type NumberField,
  type RegionChoice,
  toReviewFilter,
} from "./review-format.ts";
import {
  type QueueStats,
  ReviewQueueChangedSubscription,
  ReviewQueueStatsQuery,
  ReviewsQuery,
  type Review,
  type ReviewFilter,
  type ReviewSort,
  type ReviewStatus,
} from "./review-operations.ts";

/** Several events in a row (a bulk approval, a burst of submissions) cause one re-read. */
const REFRESH_DEBOUNCE_MS = 250;

export class ReviewList {
  /** The filter being edited; `apply()` makes it the list's filter. */
  form = $state<FilterForm>(defaultFilter());
  /** The filter the list shows. */
  applied = $state<FilterForm>(defaultFilter());
  filterError = $state<string | null>(null);
  /** Regions seen in the reviews loaded so far (the API has no region list). */
  regions = $state<RegionChoice[]>([]);
  sort = $state<ReviewSort>("OLDEST");

  // The threshold of the "auto-eligible" count, the bulk approval and the confidence colours.
  thresholdInput = $state<NumberField>(DEFAULT_THRESHOLD);
  threshold = $state(DEFAULT_THRESHOLD);
  thresholdError = $state<string | null>(null);

  /** Called when another filter or order is applied (the selection starts again). */
  onApplied: () => void = () => {};
  /** Called after a (re)read replaced the list, so the selection can drop what is gone. */
  onReplaced: () => void = () => {};

  readonly #live: LiveConnection;
  readonly #pages;
  readonly #stats;
  #filter: ReviewFilter = { status: "PENDING" };
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(client: Client, live: LiveConnection, pageSize = 50) {
    this.#live = live;
    this.#pages = new PagedQuery({
      client,
      live,
      query: ReviewsQuery,
      variables: (after) => ({ first: pageSize, after, filter: this.#filter, sort: this.sort }),
      connection: (data) => data.reviews,
      onData: (data) => {
        this.regions = mergeRegions(
          this.regions,
          data.reviews.edges.map((edge) => edge.node),
        );
        this.onReplaced();
      },
    });
    this.#stats = new LiveQuery({
      client,
      live,
      query: ReviewQueueStatsQuery,
      variables: () => ({ threshold: this.threshold }),
      subscription: ReviewQueueChangedSubscription,
      onEvent: ({ reviewQueueChanged: pushed }) => {
        this.#refreshSoon();
        // The subscription counts at the default threshold; another threshold is read again.
        return pushed.threshold !== this.threshold;
      },
      debounceMs: 0,
    });
  }

  /** The reviews of every page read so far, in order. */
  get reviews(): Review[] {
    return this.#pages.rows;
  }

  get hasMore(): boolean {
    return this.#pages.hasMore;
  }

  /** The first page (for the applied filter and order) is on its way. */
  get loading(): boolean {
    return this.#pages.loadingFirst;
  }

  get loadingMore(): boolean {
    return this.#pages.loadingMore;
  }

  get error(): string | null {
    return this.#pages.error;
  }

  /** Reviews matching the applied filter (all pages), null until counted. */
  get total(): number | null {
    return this.#pages.first?.reviewCount ?? null;
  }

  get stats(): QueueStats | null {
    return this.#stats.data?.reviewQueueStats ?? null;
  }

  get statsError(): string | null {
    return this.#stats.error;
  }

  /** Why the live updates stopped, if they did. */
  get liveError(): string | null {
    return this.#stats.liveError;
  }

  get liveStatus(): LiveStatus {
    return this.#stats.liveStatus;
  }

  /** The filter the list shows, as the API takes it. */
  get filter(): ReviewFilter {
    return this.#filter;
  }

  /** Starts the reads and the live counts; returns the function that stops them. */
  start(): () => void {
    const stopPages = this.#pages.start();
    const stopStats = this.#stats.start();
    // The counts are read again after a reconnect by their live query; the list here.
    const stopResync = this.#live.onConnected(() => this.#refreshSoon());
    return () => {
      stopResync();
      stopStats();
      stopPages();
      if (this.#timer) clearTimeout(this.#timer);
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
    this.onApplied();
    this.#pages.restart();
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

  /** Reads the pages already shown and the counts again, e.g. after a decision. */
  async refresh(): Promise<void> {
    await Promise.all([this.#pages.refetchNow(), this.#stats.refetchNow()]);
  }

  loadMore(): void {
    this.#pages.loadMore();
  }

  #refreshSoon(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#pages.refetchNow();
    }, REFRESH_DEBOUNCE_MS);
  }

  // ── Threshold ──

  /** Takes the threshold input; the counts are read again at the new threshold. False when invalid. */
  setThreshold(): boolean {
    const check = checkThreshold(this.thresholdInput);
    if (!check.ok) {
      this.thresholdError = check.message;
      return false;
    }
    this.thresholdError = null;
    if (check.threshold !== this.threshold) {
      this.threshold = check.threshold;
      this.#stats.reload();
    }
    return true;
  }
}
