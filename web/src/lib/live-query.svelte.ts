// One page's query kept live. The query stays subscribed to the normalised cache (graphcache, keyed
// by the Relay `id`), so a mutation's answer or a subscription event carrying a changed row updates
// that row wherever it is shown, without asking the API again. The list is read again from the
// network only when its membership may have changed: when `onEvent` says so, after the page's own
// action added or removed rows (`refetch`), and after every websocket (re)connection, so nothing
// published while offline is missed. Changing the variables (`reload`) drops the old read, so a
// slow answer to an older filter can never overwrite the newer one.
import type { AnyVariables, Client, DocumentInput, OperationResult } from "@urql/core";
import { errorMessage } from "./errors.ts";
import type { LiveConnection, LiveStatus } from "./live.svelte.ts";
import { NO_ANSWER, type Result } from "./mutation.ts";

interface Unsubscribe {
  unsubscribe(): void;
}

export interface LiveQueryOptions<Data, Variables extends AnyVariables, Event> {
  client: Client;
  live: LiveConnection;
  query: DocumentInput<Data, Variables>;
  /** Read at every (re)load, so a page's filter state can drive them. */
  variables: () => Variables;
  /** The feed of changes; without one the query is read once (and on `reload`/`refetch`). */
  subscription?: DocumentInput<Event, Record<string, never>>;
  /**
   * Sees each event; returns true when the list must be read again (a row may have joined or left
   * it). Without it every event causes a re-read, for feeds that carry no row.
   */
  onEvent?: (event: Event) => boolean;
  /** Several events in a row cause one re-read. */
  debounceMs?: number;
  /** Sees each answer after it is taken (e.g. to select the first row once there is one). */
  onData?: (data: Data) => void;
}

export class LiveQuery<Data, Variables extends AnyVariables = AnyVariables, Event = never> {
  /** The latest answer (kept while a newer one is on its way). */
  data = $state.raw<Data | null>(null);
  /** The first answer for the current variables is on its way. */
  loading = $state(true);
  error = $state<string | null>(null);
  /** Why the live updates stopped, if they did. */
  liveError = $state<string | null>(null);

  readonly #options: LiveQueryOptions<Data, Variables, Event>;
  #read: Unsubscribe | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by `reload`, so a re-read for older variables does not report its error. */
  #generation = 0;

  constructor(options: LiveQueryOptions<Data, Variables, Event>) {
    this.#options = options;
  }

  get liveStatus(): LiveStatus {
    return this.#options.live.statusFor(this.liveError);
  }

  /** Reads and follows the changes; returns the function that stops both. */
  start(): () => void {
    const { client, live, subscription, onEvent } = this.#options;
    this.reload();
    let events: Unsubscribe | null = null;
    let stopResync = (): void => {};
    if (subscription) {
      events = client.subscription(subscription, {}).subscribe((result) => {
        if (result.error) this.liveError = errorMessage(result.error);
        if (result.data) {
          this.liveError = null;
          if (onEvent?.(result.data) ?? true) this.refetch();
        }
      });
      stopResync = live.onConnected(() => this.refetch());
    }
    return () => {
      stopResync();
      events?.unsubscribe();
      this.#read?.unsubscribe();
      this.#read = null;
      if (this.#timer) clearTimeout(this.#timer);
    };
  }

  /** Reads with the current variables (cached answer first, then the network's), dropping the old read. */
  reload(): void {
    const { client, query, variables } = this.#options;
    this.#read?.unsubscribe();
    this.#generation += 1;
    this.loading = true;
    this.#read = client
      .query(query, variables(), { requestPolicy: "cache-and-network" })
      .subscribe((result) => this.#take(result));
  }

  /** Reads the list again from the network (debounced; 0 = at once, e.g. after the page's own action). */
  refetch(delayMs = this.#options.debounceMs ?? 200): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.refetchNow();
    }, delayMs);
  }

  /** Reads the list again now; the held read receives the answer through the cache. */
  async refetchNow(): Promise<void> {
    const { client, query, variables } = this.#options;
    const generation = this.#generation;
    const result = await client.query(query, variables(), { requestPolicy: "network-only" }).toPromise();
    if (result.error && generation === this.#generation) this.error = errorMessage(result.error);
  }

  #take(result: OperationResult<Data, Variables>): void {
    if (result.error) this.error = errorMessage(result.error);
    if (result.data) {
      if (!result.error) this.error = null;
      this.data = result.data;
      this.#options.onData?.(result.data);
    }
    if (!result.stale) this.loading = false;
  }
}

/**
 * A question asked once, on the operator's action, whose answer is shown for confirmation and not
 * kept live (how many reviews a bulk approval would take, what a bulk decision would do): read from
 * the network, as one outcome like a mutation's.
 */
export async function readOnce<Data, Variables extends AnyVariables>(
  client: Client,
  query: DocumentInput<Data, Variables>,
  variables: Variables,
): Promise<Result<Data>> {
  const result = await client.query(query, variables, { requestPolicy: "network-only" }).toPromise();
  if (result.error) return { ok: false, message: errorMessage(result.error) };
  return result.data === undefined ? { ok: false, message: NO_ANSWER } : { ok: true, data: result.data };
}
