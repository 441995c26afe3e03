// Subscriptions run over the websocket only. Yoga would also stream them over plain HTTP (server-
// sent events, multipart), and such a stream is tracked by nothing: no sign-out, revoked token,
// role change or session expiry ends it (websocket.ts closes sockets for those), and neither the
// per-address socket cap nor the per-connection operation cap counts it.
import { createGraphQLError, type Plugin } from "graphql-yoga";

/** Yoga puts the Fetch request in the context of an HTTP operation; a websocket operation has none. */
function overHttp(context: object): boolean {
  return "request" in context && context.request !== undefined;
}

export function subscriptionsOverWebsocketOnly(): Plugin {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      if (!overHttp(args.contextValue)) return;
      setResultAndStopExecution({
        errors: [
          createGraphQLError("Subscriptions run over the websocket (graphql-ws) on /graphql", {
            extensions: { code: "BAD_REQUEST", http: { status: 400 } },
          }),
        ],
      });
    },
  };
}
