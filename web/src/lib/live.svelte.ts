// Whether the dashboard's websocket is up, for the "live" indicators, and a hook for pages to
// re-read their lists after a (re)connect so nothing published while offline is missed.
import type { AnyVariables, Client, DocumentInput } from "@urql/core";
import { createContext } from "svelte";
import { errorMessage } from "./errors.ts";
import type { SocketState } from "./urql.ts";

export type LiveStatus = "connecting" | "live" | "offline";

export class LiveConnection {
  state = $state<SocketState>("idle");
  #onConnected = new Set<() => void>();

  get connected(): boolean {
    return this.state === "connected";
  }

  /** What a page's live indicator shows: offline too when its own subscription failed. */
  statusFor(subscriptionError: string | null): LiveStatus {
    if (subscriptionError) return "offline";
    if (this.state === "connected") return "live";
    return this.state === "closed" ? "offline" : "connecting";
  }

  set(state: SocketState): void {
    this.state = state;
    if (state === "connected") for (const listener of this.#onConnected) listener();
  }

  /** Calls `listener` after every (re)connection; returns the unsubscribe function. */
  onConnected(listener: () => void): () => void {
    this.#onConnected.add(listener);
    return () => this.#onConnected.delete(listener);
  }
}

export const [getLiveConnection, setLiveConnection] = createContext<LiveConnection>();

export interface LiveFeed {
  /** Re-read soon (debounced; 0 = at once, e.g. after the page's own mutation). */
  refresh(delayMs?: number): void;
  stop(): void;
}

/**
 * A page's data kept fresh: re-read (debounced) whenever its subscription delivers and after every
 * reconnect, so nothing published while offline is missed; the feed's own errors go to `onFeed`.
 * `onEvent` sees each event first and returns false when it applied it in place (no re-read needed).
 */
export function followLive<Data, Variables extends AnyVariables>(options: {
  client: Client;
  live: LiveConnection;
  subscription: DocumentInput<Data, Variables>;
  variables: Variables;
  reload: () => Promise<void>;
  onEvent?: (data: Data) => boolean;
  onFeed?: (error: string | null) => void;
  debounceMs: number;
}): LiveFeed {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const refresh = (delayMs = options.debounceMs): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void options.reload();
    }, delayMs);
  };
  const events = options.client.subscription(options.subscription, options.variables).subscribe((result) => {
    if (result.error) options.onFeed?.(errorMessage(result.error));
    if (result.data) {
      options.onFeed?.(null);
      if (options.onEvent?.(result.data) ?? true) refresh();
    }
  });
  const stopResync = options.live.onConnected(() => refresh());
  return {
    refresh,
    stop() {
      stopResync();
      events.unsubscribe();
      if (timer) clearTimeout(timer);
    },
  };
}
