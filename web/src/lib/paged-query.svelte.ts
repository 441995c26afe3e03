// A Relay list read a page at a time (the audit log, the webhook events, the review queue). Each
// page is a LiveQuery held on the normalised cache, so a mutation's answer carrying a listed row (a
// replayed event) updates it in place, wherever it is in the pages. `reload` (another filter) drops
// every page's read, so an answer to an older filter can never show; `loadMore` adds the page after
// the last; `refetchNow` reads the pages shown again when rows may have joined or left the list.
import type { AnyVariables, Client, DocumentInput } from "@urql/core";
import { LiveQuery } from "./live-query.svelte.ts";
import type { LiveConnection } from "./live.svelte.ts";
import { appendPage, nextPage } from "./pages.ts";

/** A Relay connection, as the documents select it. */
export interface Connection<Row> {
  edges: readonly { node: Row }[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

export interface PagedQueryOptions<Data, Variables extends AnyVariables, Row> {
  client: Client;
  live: LiveConnection;
  query: DocumentInput<Data, Variables>;
  /** The variables of the page starting after `after` (null: the first), read when it is asked for. */
  variables: (after: string | null) => Variables;
  /** Where the connection is in an answer. */
  connection: (data: Data) => Connection<Row> | null | undefined;
  /** Sees each page's answer after it is taken (e.g. to collect what its rows name). */
  onData?: (data: Data) => void;
}

interface Page<Data, Variables extends AnyVariables> {
  /** The cursor this page starts after. */
  after: string | null;
  read: LiveQuery<Data, Variables>;
  stop: () => void;
}

export class PagedQuery<Data, Variables extends AnyVariables, Row extends { id: string }> {
  readonly #options: PagedQueryOptions<Data, Variables, Row>;
  #pages = $state.raw<Page<Data, Variables>[]>([]);

  /** The rows of every page read so far, in order, each once. */
  readonly rows: Row[] = $derived.by(() =>
    this.#pages.reduce<Row[]>(
      (rows, page) => appendPage(rows, this.#connection(page)?.edges.map((edge) => edge.node) ?? []),
      [],
    ),
  );

  constructor(options: PagedQueryOptions<Data, Variables, Row>) {
    this.#options = options;
  }

  /** A page (the first, or the next) is on its way. */
  get loading(): boolean {
    return this.#pages.some((page) => page.read.loading);
  }

  /** The first page is on its way (the list for new variables, not a page added to it). */
  get loadingFirst(): boolean {
    return this.#pages[0]?.read.loading ?? false;
  }

  /** A page after the first is on its way. */
  get loadingMore(): boolean {
    return this.#pages.slice(1).some((page) => page.read.loading);
  }

  /** The first page's latest answer: what the query reads beside the list (a total, say). */
  get first(): Data | null {
    return this.#pages[0]?.read.data ?? null;
  }

  get error(): string | null {
    return this.#pages.find((page) => page.read.error)?.read.error ?? null;
  }

  /** There is a page after the last one read (true too while that next page is on its way). */
  get hasMore(): boolean {
    const last = this.#pages.at(-1);
    if (!last) return false;
    const connection = this.#connection(last);
    if (!connection) return this.#pages.length > 1 && !last.read.error;
    return nextPage(connection.pageInfo, last.after, this.#pages.length === 1).hasMore;
  }

  /** Reads the first page; returns the function that stops (`stop`). */
  start(): () => void {
    this.reload();
    return () => this.stop();
  }

  /**
   * Reads the first page (again) with the current variables and drops the others. The rows shown
   * stay until the answer replaces them; an answer to the older variables no longer arrives.
   */
  reload(): void {
    const [first, ...rest] = this.#pages;
    for (const page of rest) page.stop();
    if (first) {
      this.#pages = [first];
      first.read.reload();
    } else this.#pages = [this.#page(null)];
  }

  /**
   * Drops every page and reads the first for the current variables: unlike `reload`, nothing of the
   * older variables stays shown while the answer is on its way.
   */
  restart(): void {
    this.stop();
    this.#pages = [this.#page(null)];
  }

  /**
   * Reads every page shown again from the network, each from its own cursor (rows may have joined or
   * left the list); the answers reach the held reads through the cache.
   */
  async refetchNow(): Promise<void> {
    await Promise.all(this.#pages.map((page) => page.read.refetchNow()));
  }

  /** Stops every page's read and forgets the pages. */
  stop(): void {
    for (const page of this.#pages) page.stop();
    this.#pages = [];
  }

  /** Adds the page after the last one read. */
  loadMore(): void {
    const last = this.#pages.at(-1);
    const cursor = last ? (this.#connection(last)?.pageInfo.endCursor ?? null) : null;
    if (!this.hasMore || this.loading || cursor === null) return;
    this.#pages = [...this.#pages, this.#page(cursor)];
  }

  #page(after: string | null): Page<Data, Variables> {
    const { client, live, query, variables, onData } = this.#options;
    const read = new LiveQuery({
      client,
      live,
      query,
      variables: () => variables(after),
      ...(onData ? { onData } : {}),
    });
    return { after, read, stop: read.start() };
  }

  #connection(page: Page<Data, Variables>): Connection<Row> | null {
    return page.read.data ? (this.#options.connection(page.read.data) ?? null) : null;
  }
}
