// The Reviews page's list: the filter being edited and the one applied, the order, the Relay pages
// loaded so far, and the queue's counts at the operator's threshold, kept live by
// `reviewQueueChanged`. The counts come with each event and update in place (the cache keys them by
// threshold); an event also means reviews arrived or were decided, so the list is read again then
// (its membership changed), and after every reconnect.
import type { AnyVariables, Client, OperationResult, OperationResultSource } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
import { appendPage, nextPage } from "$lib/pages.ts";
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

/** The API serves at most this many reviews per page. */
const MAX_PAGE = 100;
/** Several events in a row (a bulk approval, a burst of submissions) cause one re-read. */
const REFRESH_DEBOUNCE_MS = 250;

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

export class ReviewList {
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
  sort = $state<ReviewSort>("OLDEST");
  /** Reviews matching the applied filter (all pages), null until counted. */
  total = $state<number | null>(null);

  // The threshold of the "auto-eligible" count, the bulk approval and the confidence colours.
  thresholdInput = $state<NumberField>(DEFAULT_THRESHOLD);
  threshold = $state(DEFAULT_THRESHOLD);
  thresholdError = $state<string | null>(null);

  /** Called when another filter or order is applied (the selection starts again). */
  onApplied: () => void = () => {};
  /** Called after a (re)read replaced the list, so the selection can drop what is gone. */
  onReplaced: () => void = () => {};

  readonly #client: Client;
  readonly #live: LiveConnection;
  readonly #pageSize: number;
  readonly #stats;
  #filter: ReviewFilter = { status: "PENDING" };
  #cursor: string | null = null;
  /** Ignores answers to list reads that a newer one replaced. */
  #request = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(client: Client, live: LiveConnection, pageSize = 50) {
    this.#client = client;
    this.#live = live;
    this.#pageSize = pageSize;
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
    void this.#readList(true, "cache-and-network");
    const stopStats = this.#stats.start();
    // The counts are read again after a reconnect by their live query; the list here.
    const stopResync = this.#live.onConnected(() => this.#refreshSoon());
    return () => {
      stopResync();
      stopStats();
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

  /** Reads the pages already shown and the counts again (at most 100 reviews), e.g. after a decision. */
  async refresh(): Promise<void> {
    await Promise.all([this.#readList(true, "cache-and-network"), this.#stats.refetchNow()]);
  }

  async loadMore(): Promise<void> {
    if (!this.hasMore || this.loadingMore) return;
    await this.#readList(false, "network-only");
  }

  #refreshSoon(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#readList(true, "cache-and-network");
    }, REFRESH_DEBOUNCE_MS);
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
      this.reviews = appendPage(replace ? [] : this.reviews, page);
      this.regions = mergeRegions(this.regions, page);
      ({ hasMore: this.hasMore, cursor: this.#cursor } = nextPage(connection.pageInfo, this.#cursor, replace));
      if (replace) this.onReplaced();
    });
    if (request === this.#request) {
      this.loading = false;
      this.loadingMore = false;
    }
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
