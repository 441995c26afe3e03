// "Look up a business" (the seed's scenario 1, "My profile isn't being featured", and playbook 4):
// search businesses by name, pick one, and show its QueuePosition — active until when, or its
// place in the region's queue with who is ahead and the estimated activation, or not featured.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { unwrap } from "$lib/mutation.ts";
import { type BusinessHit, BusinessSearchQuery, type QueueAnswer, QueuePositionQuery } from "./placement-operations.ts";

const SEARCH_DEBOUNCE_MS = 250;
const SEARCH_LIMIT = 10;

export class BusinessLookup {
  /** What the operator typed; results follow it after a short pause. */
  text = $state("");
  results = $state<BusinessHit[]>([]);
  moreResults = $state(false);
  searching = $state(false);
  searchError = $state<string | null>(null);
  /** The text the current results answer (to say "no business matches …"). */
  searchedFor = $state<string | null>(null);

  selected = $state<BusinessHit | null>(null);
  answer = $state<QueueAnswer | null>(null);
  answering = $state(false);
  answerError = $state<string | null>(null);

  readonly #client: Client;
  #searchRequest = 0;
  #answerRequest = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(client: Client) {
    this.#client = client;
  }

  /** Called on every keystroke: searches once the operator pauses. */
  type(text: string): void {
    this.text = text;
    if (this.#timer) clearTimeout(this.#timer);
    const search = text.trim();
    if (search === "") {
      this.#searchRequest++;
      this.results = [];
      this.moreResults = false;
      this.searching = false;
      this.searchError = null;
      this.searchedFor = null;
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.search(search);
    }, SEARCH_DEBOUNCE_MS);
  }

  async search(search: string): Promise<void> {
    const request = ++this.#searchRequest;
    this.searching = true;
    const result = await this.#client
      .query(BusinessSearchQuery, { search, first: SEARCH_LIMIT }, { requestPolicy: "network-only" })
      .toPromise();
    if (request !== this.#searchRequest) return;
    this.searching = false;
    this.searchedFor = search;
    if (result.error) {
      this.searchError = errorMessage(result.error);
      this.results = [];
      this.moreResults = false;
      return;
    }
    this.searchError = null;
    this.results = result.data?.businesses.edges.map((edge) => edge.node) ?? [];
    this.moreResults = result.data?.businesses.pageInfo.hasNextPage ?? false;
  }

  /** Shows why `business` is or is not featured (always asks the server afresh). */
  async choose(business: BusinessHit): Promise<void> {
    const request = ++this.#answerRequest;
    this.selected = business;
    this.answer = null;
    this.answerError = null;
    this.answering = true;
    const result = await this.#client
      .query(QueuePositionQuery, { businessId: business.id }, { requestPolicy: "network-only" })
      .toPromise();
    if (request !== this.#answerRequest) return;
    this.answering = false;
    const outcome = unwrap(result.error, result.data?.queuePosition);
    if (outcome.ok) this.answer = outcome.data;
    else this.answerError = outcome.message;
  }

  async refresh(): Promise<void> {
    if (this.selected) await this.choose(this.selected);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#searchRequest++;
    this.#answerRequest++;
  }
}
