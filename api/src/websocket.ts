// GraphQL over websockets (graphql-ws) on the same port and path as HTTP: the upgrade is
// gated (origin, connect rate, open sockets per address), every operation is re-authenticated
// and runs through Yoga's envelop (limits, masking), and a socket is closed when its session
// ends (signed out on any instance, through the bus) or expires, and when the credentials it was
// opened with change (a revoked token, an operator's role changed or disabled).
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type Actor, ANONYMOUS } from "@steward/core/actor";
import type { Env } from "@steward/core/env";
import type { EventBus } from "@steward/core/ports/events";
import type { Logger } from "@steward/core/logger";
import type { DocumentNode, execute, GraphQLError, GraphQLSchema, parse, subscribe, validate } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createGraphQLError } from "graphql-yoga";
import { type WebSocket, WebSocketServer } from "ws";
import { authenticate } from "./authenticate.ts";
import type { Context } from "./context.ts";
import { followEvents } from "./followEvents.ts";
import { clientAddress, type RateLimiter } from "./security/rate-limit.ts";
import { unacceptableInputError } from "./security/text-input.ts";
import {
  allowedOrigins,
  createConnectionGate,
  operationsOverCap,
  originAllowed,
  refusedSocket,
  refuseForeignOrigin,
  refuseUpgrade,
} from "./security/websocket.ts";
import type { CredentialCache } from "./sessionCache.ts";
import type { StewardYoga } from "./yoga.ts";

export interface WebSocketDeps {
  env: Env;
  logger: Logger;
  credentials: CredentialCache;
  events: EventBus;
  yoga: StewardYoga;
  rateLimiter: RateLimiter;
}

export interface WebSockets {
  /** Stops listening for session ends, disposes the graphql-ws server and closes every socket. */
  close(): Promise<void>;
}

/** What Yoga's envelop (limits, masking) built for each websocket operation, to run it with. */
interface EnvelopedOperation {
  schema: GraphQLSchema;
  parse: typeof parse;
  validate: typeof validate;
  execute: typeof execute;
  subscribe: typeof subscribe;
  contextFactory: () => Promise<Context> | Context;
}

export function attachWebSockets(server: Server, deps: WebSocketDeps): WebSockets {
  const { env, logger, credentials, events, yoga, rateLimiter } = deps;
  // The upgrade is ours to answer: an address over its connect rate or open-socket cap gets 429
  // and Retry-After before the handshake, so a flood costs neither a websocket nor a session lookup.
  const wsServer = new WebSocketServer({ noServer: true, path: "/graphql" });
  const connectionGate = createConnectionGate(
    (address) => rateLimiter.limitSocketAddress(address),
    env.WS_MAX_CONNECTIONS_PER_ADDRESS,
  );
  const socketOrigins = allowedOrigins(env.PUBLIC_URL, env.ALLOWED_ORIGINS);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Until ws takes the socket over, a client reset must not become an unhandled 'error'.
    socket.on("error", () => undefined);
    // Before the rate limit: a hijacking page must not spend its victim's connection budget either.
    if (!originAllowed(req.headers.origin, socketOrigins)) return refuseForeignOrigin(socket);
    const address = clientAddress(req, env.TRUSTED_PROXY_HOPS);
    void connectionGate.admit(address, socket).then(
      (wait) => {
        if (wait !== null) return refuseUpgrade(socket, wait);
        if (socket.destroyed) return;
        wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit("connection", ws, req));
      },
      (error: unknown) => {
        logger.error({ err: error }, "websocket upgrade failed");
        socket.destroy();
      },
    );
  });
  // A socket lives as long as the credentials it was opened with: closed when its session ends
  // (sign-out on any instance, through the bus) or expires, so no event reaches a signed-out
  // browser; and when its token is revoked or its operator's role changes or they are disabled,
  // because its open subscriptions keep the actor they were started with (re-authenticating the
  // next operation is not enough: a demoted ADMIN's subscriptions would go on reading ADMIN
  // fields). The client reconnects with whatever its credentials are now.
  const socketsByCredential = new Map<string, Set<WebSocket>>();
  const closeSockets = (key: string, reason: string) => {
    for (const socket of socketsByCredential.get(key) ?? []) socket.close(4401, reason);
    socketsByCredential.delete(key);
  };
  const trackSocket = (key: string, socket: WebSocket) => {
    const sockets = socketsByCredential.get(key) ?? new Set<WebSocket>();
    sockets.add(socket);
    socketsByCredential.set(key, sockets);
    socket.once("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0 && socketsByCredential.get(key) === sockets) socketsByCredential.delete(key);
    });
  };
  const stopCredentialsChanged = followEvents(events, "credentialsChanged", {
    onEvent: (change) => {
      for (const sessionId of change.sessionIds) closeSockets(`session:${sessionId}`, "Session ended");
      for (const operatorId of change.operatorIds) closeSockets(`operator:${operatorId}`, "Credentials changed");
      for (const tokenId of change.apiTokenIds) closeSockets(`token:${tokenId}`, "Credentials changed");
    },
  });
  const envelopedByContext = new WeakMap<object, EnvelopedOperation>();
  const socketCredentials = (ctx: {
    connectionParams?: Record<string, unknown>;
    extra: { request: IncomingMessage };
  }) => {
    const authorization = ctx.connectionParams?.authorization;
    return {
      cookieHeader: ctx.extra.request.headers.cookie ?? null,
      authorizationHeader: typeof authorization === "string" ? authorization : null,
    };
  };
  const wsHandler = useServer<Record<string, unknown> | undefined, { request: IncomingMessage; socket: WebSocket }>(
    {
      // Each operation goes through Yoga's envelop, so the document limits and error masking of
      // HTTP apply here too, and re-authenticates: a revoked token stops working at once.
      onSubscribe: async (ctx, _id, payload) => {
        if (operationsOverCap(ctx.subscriptions, env.WS_MAX_OPERATIONS_PER_CONNECTION)) {
          return [
            createGraphQLError(`At most ${env.WS_MAX_OPERATIONS_PER_CONNECTION} operations per connection`, {
              extensions: { code: "TOO_MANY_OPERATIONS" },
            }),
          ];
        }
        let actor: Actor;
        try {
          actor = await authenticate(credentials, socketCredentials(ctx));
        } catch {
          actor = ANONYMOUS;
        }
        if (actor.kind === "ANONYMOUS") {
          refusedSocket(ctx.extra.socket);
          return [createGraphQLError("Sign in again", { extensions: { code: "UNAUTHENTICATED" } })];
        }
        const unacceptable = unacceptableInputError(payload);
        if (unacceptable) return [createGraphQLError(unacceptable.message, { extensions: unacceptable.extensions })];
        const enveloped: EnvelopedOperation = yoga.getEnveloped({
          req: ctx.extra.request,
          actor,
          responseCookies: [],
          clientIp: clientAddress(ctx.extra.request, env.TRUSTED_PROXY_HOPS),
          userAgent: ctx.extra.request.headers["user-agent"],
          params: payload,
        });
        let document: DocumentNode;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          // A syntax error, or the token limit: the parser's message says which, and nothing else.
          return [createGraphQLError(error instanceof Error ? error.message : "Invalid document")];
        }
        const errors: readonly GraphQLError[] = enveloped.validate(enveloped.schema, document);
        // Rebuilt through Yoga's GraphQLError class, the one graphql-ws recognises errors by
        // (the app's own `graphql` import can be a second copy, see builder.ts).
        if (errors.length > 0)
          return errors.map((error) => createGraphQLError(error.message, { extensions: error.extensions }));
        const contextValue = await enveloped.contextFactory();
        envelopedByContext.set(contextValue, enveloped);
        return {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      execute: (args) => envelopedFor(args.contextValue).execute(args),
      subscribe: (args) => envelopedFor(args.contextValue).subscribe(args),
      onConnect: async (ctx) => {
        let actor: Actor;
        try {
          actor = await authenticate(credentials, socketCredentials(ctx));
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
        // Nothing is open to anonymous callers over the socket: refuse it as early as possible.
        if (actor.kind === "ANONYMOUS") return false;
        const socket = ctx.extra.socket;
        if (actor.kind === "API_TOKEN") trackSocket(`token:${actor.id}`, socket);
        if (actor.kind === "OPERATOR") trackSocket(`operator:${actor.id}`, socket);
        if (actor.kind === "OPERATOR" && actor.sessionId) {
          trackSocket(`session:${actor.sessionId}`, socket);
          const untilExpiry = (actor.sessionExpiresAt?.getTime() ?? Date.now()) - Date.now();
          const expiry = setTimeout(() => socket.close(4401, "Session expired"), Math.min(untilExpiry, 2 ** 31 - 1));
          socket.once("close", () => clearTimeout(expiry));
        }
        return true;
      },
    },
    wsServer,
  );
  function envelopedFor(contextValue: unknown): EnvelopedOperation {
    const enveloped =
      typeof contextValue === "object" && contextValue ? envelopedByContext.get(contextValue) : undefined;
    if (!enveloped) throw new Error("websocket operation without its envelop");
    return enveloped;
  }

  return {
    async close() {
      await stopCredentialsChanged();
      await wsHandler.dispose();
      await new Promise<void>((resolve) => {
        wsServer.close(() => resolve());
      });
    },
  };
}
