// The Webhooks page's state: the events matching the filter (a Relay page at a time), the
// operator's selection, and replays with what each did. The server decides; this shows answers. A
// replay answers with each event's new status, which the cache writes into its row in place.
import type { Client } from "@urql/core";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import { PagedQuery } from "$lib/paged-query.svelte.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import { ReplayWebhookEventsMutation, type WebhookEventFilter, WebhookEventsQuery } from "./webhook-operations.ts";

/** The API replays at most this many at once (MAX_REPLAY_EVENTS): also the page size. */
const PAGE_SIZE = 50;

export class WebhookEventList {
  replaying = $state(false);
  notice = $state<Notice | null>(null);
  readonly selected = new SvelteSet<string>();
  /** What the last replay did to each event (by node id). */
  readonly outcomes = new SvelteMap<string, string>();

  /** The pages read so far: their `rows`, `loading`, `error`, `hasMore` and `loadMore()` are the page's. */
  readonly pages;
  readonly #client: Client;
  #filter: WebhookEventFilter | null = null;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.pages = new PagedQuery({
      client,
      live,
      query: WebhookEventsQuery,
      variables: (after) => ({ first: PAGE_SIZE, after, filter: this.#filter }),
      connection: (data) => data.webhookEvents,
    });
  }

  /** Reads the first page for this filter (the selection starts again). */
  search(filter: WebhookEventFilter | null): void {
    this.#filter = filter;
    this.selected.clear();
    this.pages.reload();
  }

  toggle(id: string): void {
    if (this.selected.has(id)) this.selected.delete(id);
    else if (this.selected.size < PAGE_SIZE) this.selected.add(id);
  }

  async replay(ids: readonly string[]): Promise<void> {
    if (ids.length === 0 || this.replaying) return;
    this.replaying = true;
    this.notice = null;
    const outcome = await runMutation(
      this.#client,
      ReplayWebhookEventsMutation,
      { ids: [...ids] },
      (data) => data.replayWebhookEvents,
    );
    this.replaying = false;
    if (!outcome.ok) {
      this.notice = { kind: "error", text: outcome.message };
      return;
    }
    const replays = outcome.data;
    for (const replay of replays)
      this.outcomes.set(replay.event.id, `${replay.outcome.toLowerCase().replaceAll("_", " ")}: ${replay.summary}`);
    const failed = replays.filter((replay) => replay.outcome === "FAILED").length;
    this.selected.clear();
    this.notice =
      failed > 0
        ? { kind: "error", text: `Replayed ${replays.length} event(s); ${failed} failed (see each row).` }
        : { kind: "success", text: `Replayed ${replays.length} event(s) from Stripe. Nothing is applied twice.` };
  }
}
