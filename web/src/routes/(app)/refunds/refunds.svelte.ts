// The Refunds page's state: the requests with one status (pending by default, oldest purchase
// first), kept live by `refundRequestChanged`, and the operator's two decisions. The server
// evaluates the 3-day rule when deciding; this only shows what it answers.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { followLive, type LiveConnection, type LiveFeed, type LiveStatus } from "$lib/live.svelte.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  ApproveRefundMutation,
  DenyRefundMutation,
  type RefundRequest,
  RefundRequestChangedSubscription,
  RefundRequestsQuery,
  type RefundStatus,
} from "./refund-operations.ts";
import { formatAmount } from "./refund-format.ts";

export type Notice = { kind: "error" | "success"; text: string };

const NO_ANSWER = "The API returned no answer. Try again.";
const REFRESH_DEBOUNCE_MS = 200;

export class RefundQueue {
  requests = $state<RefundRequest[]>([]);
  hasMore = $state(false);
  loading = $state(true);
  error = $state<string | null>(null);
  status = $state<RefundStatus>("PENDING");
  liveError = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  /** Requests with a decision on its way. */
  readonly busy = new SvelteSet<string>();
  /** Why the last decision on a request was refused, shown in its row. */
  readonly rowErrors = new SvelteMap<string, string>();

  readonly #client: Client;
  readonly #live: LiveConnection;
  readonly #pageSize: number;
  #request = 0;
  #feed: LiveFeed | null = null;

  constructor(client: Client, live: LiveConnection, pageSize = 100) {
    this.#client = client;
    this.#live = live;
    this.#pageSize = pageSize;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  /** Loads the list and follows changes; returns the function that stops. */
  start(): () => void {
    void this.load();
    const feed = followLive({
      client: this.#client,
      live: this.#live,
      subscription: RefundRequestChangedSubscription,
      variables: {},
      reload: () => this.load(),
      onFeed: (error) => (this.liveError = error),
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
    this.#feed = feed;
    return () => {
      feed.stop();
    };
  }

  async load(): Promise<void> {
    const request = ++this.#request;
    const result = await this.#client
      .query(
        RefundRequestsQuery,
        { filter: { status: this.status }, first: this.#pageSize },
        { requestPolicy: "network-only" },
      )
      .toPromise();
    if (request !== this.#request) return;
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      return;
    }
    this.error = null;
    this.requests = result.data?.refundRequests.edges.map((edge) => edge.node) ?? [];
    this.hasMore = result.data?.refundRequests.pageInfo.hasNextPage ?? false;
  }

  show(status: RefundStatus): void {
    this.status = status;
    this.loading = true;
    this.notice = null;
    this.rowErrors.clear();
    void this.load();
  }

  async approve(request: RefundRequest): Promise<boolean> {
    this.#begin(request);
    const result = await this.#client.mutation(ApproveRefundMutation, { id: request.id }).toPromise();
    const payload = result.data?.approveRefund;
    const failure = result.error ? errorMessage(result.error) : !payload ? NO_ANSWER : null;
    if (failure || !payload || payload.__typename !== "MutationApproveRefundSuccess") {
      return this.#fail(request, failure ?? (payload && "message" in payload ? payload.message : NO_ANSWER));
    }
    const amount = formatAmount(request.amountCents, request.currency);
    // The approval claims the request (PROCESSING); the refund job refunds it at Stripe and the
    // live feed moves it to Refunded (APPROVED) a moment later.
    this.#succeed(
      request,
      payload.data.status === "APPROVED"
        ? `Refunded ${amount} to ${request.business.name}. The business is being emailed.`
        : `Refunding ${amount} to ${request.business.name}: it shows under Refunded once Stripe confirms, and the business is emailed.`,
    );
    return true;
  }

  async deny(request: RefundRequest, reason: string): Promise<boolean> {
    this.#begin(request);
    const result = await this.#client.mutation(DenyRefundMutation, { id: request.id, reason }).toPromise();
    const payload = result.data?.denyRefund;
    const failure = result.error ? errorMessage(result.error) : !payload ? NO_ANSWER : null;
    if (failure || !payload || payload.__typename !== "MutationDenyRefundSuccess") {
      return this.#fail(request, failure ?? (payload && "message" in payload ? payload.message : NO_ANSWER));
    }
    this.#succeed(request, `Denied the refund for ${request.business.name}. The business is being emailed why.`);
    return true;
  }

  #begin(request: RefundRequest): void {
    this.busy.add(request.id);
    this.rowErrors.delete(request.id);
    this.notice = null;
  }

  #fail(request: RefundRequest, message: string): false {
    this.busy.delete(request.id);
    this.rowErrors.set(request.id, message);
    return false;
  }

  #succeed(request: RefundRequest, text: string): void {
    this.busy.delete(request.id);
    this.notice = { kind: "success", text };
    this.#feed?.refresh(0);
  }
}
