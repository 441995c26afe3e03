// The Webhooks page's state: the events matching the filter (a Relay page at a time), the
// operator's selection, and replays with what each did. The server decides; this shows answers.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  ReplayWebhookEventsMutation,
  type WebhookEvent,
  type WebhookEventFilter,
  WebhookEventsQuery,
} from "./webhook-operations.ts";

export type Notice = { kind: "error" | "success"; text: string };

/** The API replays at most this many at once (MAX_REPLAY_EVENTS): also the page size. */
const PAGE_SIZE = 50;

export class WebhookEventList {
  events = $state<WebhookEvent[]>([]);
  hasMore = $state(false);
  loading = $state(false);
  replaying = $state(false);
  error = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  readonly selected = new SvelteSet<string>();
  /** What the last replay did to each event (by node id). */
  readonly outcomes = new SvelteMap<string, string>();

  readonly #client: Client;
  #filter: WebhookEventFilter | null = null;
  #cursor: string | null = null;
  #request = 0;

  constructor(client: Client) {
    this.#client = client;
  }

  async search(filter: WebhookEventFilter | null): Promise<void> {
    this.#filter = filter;
    this.#cursor = null;
    this.selected.clear();
    await this.#fetch(true);
  }

  async loadMore(): Promise<void> {
    if (this.hasMore && !this.loading) await this.#fetch(false);
  }

  toggle(id: string): void {
    if (this.selected.has(id)) this.selected.delete(id);
    else if (this.selected.size < PAGE_SIZE) this.selected.add(id);
  }

  async replay(ids: readonly string[]): Promise<void> {
    if (ids.length === 0 || this.replaying) return;
    this.replaying = true;
    this.notice = null;
    const result = await this.#client.mutation(ReplayWebhookEventsMutation, { ids: [...ids] }).toPromise();
    this.replaying = false;
    const payload = result.data?.replayWebhookEvents;
    if (result.error || !payload || payload.__typename !== "MutationReplayWebhookEventsSuccess") {
      const text = result.error
        ? errorMessage(result.error)
        : payload && "message" in payload
          ? payload.message
          : "The API returned no answer. Try again.";
      this.notice = { kind: "error", text };
      return;
    }
    for (const replay of payload.data) {
      this.outcomes.set(replay.event.id, `${replay.outcome.toLowerCase().replaceAll("_", " ")}: ${replay.summary}`);
      this.events = this.events.map((event) => (event.id === replay.event.id ? { ...event, ...replay.event } : event));
    }
    const failed = payload.data.filter((replay) => replay.outcome === "FAILED").length;
    this.selected.clear();
    this.notice =
      failed > 0
        ? { kind: "error", text: `Replayed ${payload.data.length} event(s); ${failed} failed (see each row).` }
        : { kind: "success", text: `Replayed ${payload.data.length} event(s) from Stripe. Nothing is applied twice.` };
  }

  async #fetch(replace: boolean): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    const result = await this.#client
      .query(
        WebhookEventsQuery,
        { first: PAGE_SIZE, after: this.#cursor, filter: this.#filter },
        { requestPolicy: "network-only" },
      )
      .toPromise();
    if (request !== this.#request) return;
    this.loading = false;
    if (result.error) {
      this.error = errorMessage(result.error);
      if (replace) this.events = [];
      this.hasMore = false;
      return;
    }
    const connection = result.data?.webhookEvents;
    if (!connection) return;
    this.error = null;
    const page = connection.edges.map((edge) => edge.node);
    const seen = new Set(replace ? [] : this.events.map((event) => event.id));
    this.events = replace ? page : [...this.events, ...page.filter((event) => !seen.has(event.id))];
    this.hasMore = connection.pageInfo.hasNextPage && connection.pageInfo.endCursor !== null;
    this.#cursor = connection.pageInfo.endCursor ?? null;
  }
}
