// The Refunds page's state: the requests with one status (pending by default, oldest purchase
// first), kept live by `refundRequestChanged`, and the operator's two decisions. The server
// evaluates the 3-day rule when deciding; this only shows what it answers. A decision's answer and
// each event carry the changed request, which the cache updates in place; a request whose status
// no longer matches leaves the list here, and the list is read again only when a request may have
// joined it (or one from the next page could move up).
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { type Result, runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
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

export class RefundQueue {
  status = $state<RefundStatus>("PENDING");
  notice = $state<Notice | null>(null);
  /** Requests with a decision on its way. */
  readonly busy = new SvelteSet<string>();
  /** Why the last decision on a request was refused, shown in its row. */
  readonly rowErrors = new SvelteMap<string, string>();

  readonly #client: Client;
  /** The live read itself: its `loading`, `error` and live status are the page's. */
  readonly query;

  constructor(client: Client, live: LiveConnection, pageSize = 100) {
    this.#client = client;
    this.query = new LiveQuery({
      client,
      live,
      query: RefundRequestsQuery,
      variables: () => ({ filter: { status: this.status }, first: pageSize }),
      subscription: RefundRequestChangedSubscription,
      // A request already shown changed in place; one not shown may have joined the list.
      onEvent: ({ refundRequestChanged: changed }) =>
        this.hasMore || (changed.status === this.status && !this.requests.some((shown) => shown.id === changed.id)),
    });
  }

  /** The requests shown: those still having the chosen status (a decided one leaves at once). */
  get requests(): RefundRequest[] {
    const edges = this.query.data?.refundRequests.edges ?? [];
    return edges.map((edge) => edge.node).filter((request) => request.status === this.status);
  }

  get hasMore(): boolean {
    return this.query.data?.refundRequests.pageInfo.hasNextPage ?? false;
  }

  /** Loads the list and follows changes; returns the function that stops. */
  start(): () => void {
    return this.query.start();
  }

  show(status: RefundStatus): void {
    this.status = status;
    this.notice = null;
    this.rowErrors.clear();
    this.query.reload();
  }

  async approve(request: RefundRequest): Promise<boolean> {
    const amount = formatAmount(request.amountCents, request.currency);
    // The approval claims the request (PROCESSING); the refund job refunds it at Stripe and the
    // live feed moves it to Refunded (APPROVED) a moment later.
    return this.#decide(
      request,
      runMutation(this.#client, ApproveRefundMutation, { id: request.id }, (data) => data.approveRefund),
      (decided) =>
        decided.status === "APPROVED"
          ? `Refunded ${amount} to ${request.business.name}. The business is being emailed.`
          : `Refunding ${amount} to ${request.business.name}: it shows under Refunded once Stripe confirms, and the business is emailed.`,
    );
  }

  async deny(request: RefundRequest, reason: string): Promise<boolean> {
    return this.#decide(
      request,
      runMutation(this.#client, DenyRefundMutation, { id: request.id, reason }, (data) => data.denyRefund),
      () => `Denied the refund for ${request.business.name}. The business is being emailed why.`,
    );
  }

  async #decide(
    request: RefundRequest,
    decision: Promise<Result<RefundRequest>>,
    success: (decided: RefundRequest) => string,
  ): Promise<boolean> {
    this.busy.add(request.id);
    this.rowErrors.delete(request.id);
    this.notice = null;
    const outcome = await decision;
    this.busy.delete(request.id);
    if (!outcome.ok) {
      this.rowErrors.set(request.id, outcome.message);
      return false;
    }
    this.notice = { kind: "success", text: success(outcome.data) };
    // The decided request left this list; one from the next page moves up.
    if (this.hasMore) this.query.refetch(0);
    return true;
  }
}
