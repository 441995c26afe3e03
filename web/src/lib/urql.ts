// The dashboard's one urql client: queries and mutations over HTTP (the session cookie rides
// along, same origin), subscriptions over graphql-ws on the same /graphql path. The root layout
// creates it once and shares it with `setContextClient`. Answers go into one normalised cache keyed
// by each row's Relay `id`: a mutation's or a subscription's changed row updates every query that
// shows it (see live-query.svelte.ts); rows without an `id` are kept inside their parent.
import { Client, fetchExchange, mapExchange, subscriptionExchange } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { isUnauthenticated } from "./errors.ts";
import { possibleTypes } from "./possible-types.ts";

export type SocketState = "idle" | "connecting" | "connected" | "closed";

export interface UrqlClientOptions {
  /** Called whenever the websocket changes state, so pages can show whether they are live. */
  onSocketState?: (state: SocketState) => void;
  /** Called when the API says the caller is not signed in (expired or revoked session). */
  onUnauthenticated?: () => void;
  /**
   * Called when the API closed the socket because its session ended (signed out elsewhere, ended by
   * an ADMIN, the operator disabled, expired): the page should ask who is signed in now.
   */
  onSessionEnded?: () => void;
}

/** The API's close code when the socket's session ends (api/src/app.ts). */
const SESSION_ENDED_CLOSE_CODE = 4401;

export interface DashboardClient {
  client: Client;
  /** Closes the websocket for good (on sign-out, right before the page is reloaded). */
  dispose(): void;
}

export function createUrqlClient(options: UrqlClientOptions = {}): DashboardClient {
  const { onSocketState, onUnauthenticated, onSessionEnded } = options;
  const wsClient: WsClient = createWsClient({
    url: () => `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/graphql`,
    lazy: true,
    // A dropped socket (API restart, network blip) is retried; subscriptions resume on reconnect.
    retryAttempts: Number.POSITIVE_INFINITY,
    // Capped exponential backoff with jitter: 1 s, 2 s, 4 s … 15 s.
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(15_000, 1000 * 2 ** retries) + Math.random() * 500)),
    on: {
      connecting: () => onSocketState?.("connecting"),
      connected: () => onSocketState?.("connected"),
      closed: (event) => {
        onSocketState?.("closed");
        if ((event as { code?: unknown } | undefined)?.code === SESSION_ENDED_CLOSE_CODE) onSessionEnded?.();
      },
    },
  });

  const client = new Client({
    url: "/graphql",
    fetchOptions: { credentials: "same-origin" },
    // Always POST with content-type: application/json, which Yoga's CSRF prevention requires.
    preferGetMethod: false,
    requestPolicy: "cache-first",
    exchanges: [
      cacheExchange({
        // Exact fragment matching for the payload unions (`… on Error { message }`).
        possibleTypes,
        keys: {
          // The queue's counts have no id: one set per threshold, so the pushed counts replace the
          // ones a page read at the same threshold.
          ReviewQueueStats: (stats) => (typeof stats["threshold"] === "number" ? String(stats["threshold"]) : null),
          // There is one current health status: a pushed one replaces the one read.
          HealthStatus: () => "current",
        },
      }),
      mapExchange({
        onError(error) {
          if (isUnauthenticated(error)) onUnauthenticated?.();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = wsClient.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return {
    client,
    dispose: () => {
      void wsClient.dispose();
    },
  };
}
