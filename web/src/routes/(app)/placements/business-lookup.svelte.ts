// "Look up a business" (the seed's scenario 1, "My profile isn't being featured", and playbook 4):
// search businesses by name, pick one, and show its QueuePosition — active until when, or its
// place in the region's queue with who is ahead and the estimated activation, or not featured.
// The search and the answer are each one LiveQuery: a newer search (or another business) replaces
// the read, so an answer to an older one never shows.
import type { Client } from "@urql/core";
import type { ResultOf, VariablesOf } from "$lib/graphql.ts";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { type Result, unwrap } from "$lib/mutation.ts";
import { type BusinessHit, BusinessSearchQuery, type QueueAnswer, QueuePositionQuery } from "./placement-operations.ts";

const SEARCH_DEBOUNCE_MS = 250;
const SEARCH_LIMIT = 10;

type SearchRead = LiveQuery<ResultOf<typeof BusinessSearchQuery>, VariablesOf<typeof BusinessSearchQuery>>;
type AnswerRead = LiveQuery<ResultOf<typeof QueuePositionQuery>, VariablesOf<typeof QueuePositionQuery>>;

interface Held<Read> {
  read: Read;
  stop: () => void;
}

export class BusinessLookup {
  /** What the operator typed; results follow it after a short pause. */
  text = $state("");
  /** The text the current search asks for (to say "no business matches …"); null: no search. */
  searchedFor = $state<string | null>(null);
  selected = $state<BusinessHit | null>(null);

  readonly #client: Client;
  readonly #live: LiveConnection;
  #search = $state.raw<Held<SearchRead> | null>(null);
  #answer = $state.raw<Held<AnswerRead> | null>(null);
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  get results(): BusinessHit[] {
    return this.#search?.read.data?.businesses.edges.map((edge) => edge.node) ?? [];
  }

  get moreResults(): boolean {
    return this.#search?.read.data?.businesses.pageInfo.hasNextPage ?? false;
  }

  get searching(): boolean {
    return this.#search?.read.loading ?? false;
  }

  get searchError(): string | null {
    return this.#search?.read.error ?? null;
  }

  get answering(): boolean {
    return this.#answer?.read.loading ?? false;
  }

  get answer(): QueueAnswer | null {
    const outcome = this.#answerOutcome();
    return outcome?.ok ? outcome.data : null;
  }

  get answerError(): string | null {
    const outcome = this.#answerOutcome();
    return outcome && !outcome.ok ? outcome.message : null;
  }

  /** Called on every keystroke: searches once the operator pauses. */
  type(text: string): void {
    this.text = text;
    if (this.#timer) clearTimeout(this.#timer);
    const search = text.trim();
    if (search === "") {
      this.#search?.stop();
      this.#search = null;
      this.searchedFor = null;
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.search(search);
    }, SEARCH_DEBOUNCE_MS);
  }

  /** Reads the businesses matching `search`; the results shown stay until the answer replaces them. */
  search(search: string): void {
    this.searchedFor = search;
    if (this.#search) this.#search.read.reload();
    else {
      const read: SearchRead = new LiveQuery({
        client: this.#client,
        live: this.#live,
        query: BusinessSearchQuery,
        variables: () => ({ search: this.searchedFor ?? "", first: SEARCH_LIMIT }),
      });
      this.#search = { read, stop: read.start() };
    }
  }

  /** Shows why `business` is or is not featured (asks the server afresh each time). */
  choose(business: BusinessHit): void {
    this.selected = business;
    this.#answer?.stop();
    const read: AnswerRead = new LiveQuery({
      client: this.#client,
      live: this.#live,
      query: QueuePositionQuery,
      variables: () => ({ businessId: business.id }),
    });
    this.#answer = { read, stop: read.start() };
  }

  refresh(): void {
    if (this.selected) this.choose(this.selected);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#search?.stop();
    this.#answer?.stop();
  }

  /** The answer once it is in (the read's own error first). */
  #answerOutcome(): Result<QueueAnswer> | null {
    const read = this.#answer?.read;
    if (!read || read.loading) return null;
    if (read.error) return { ok: false, message: read.error };
    return read.data ? unwrap(undefined, read.data.queuePosition) : null;
  }
}
