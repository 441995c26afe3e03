// Whether the dashboard's websocket is up, for the "live" indicators, and a hook for pages to
// re-read their lists after a (re)connect so nothing published while offline is missed (the
// pages' live queries use it: live-query.svelte.ts).
import { createContext } from "svelte";
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
