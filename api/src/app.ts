// Builds the API: GraphQL over HTTP and graphql-ws on one port and path, health endpoints,
// and the built dashboard on the same origin. `main.ts` only calls this; tests do too.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { type Actor, ANONYMOUS } from "@steward/core/actor";
import { publishAlertChangesTo } from "@steward/core/alerts";
import { isDatabaseUnavailable } from "@steward/core/availability";
import type { Env } from "@steward/core/env";
import { tokenHasScope } from "@steward/core/permissions";
import { createEventBus } from "@steward/core/events";
import type { Logger } from "@steward/core/logger";
import { createLoginThrottle } from "@steward/core/loginThrottle";
import { publishQueryLatency, QueryLatencyWindow } from "@steward/core/queryLatency";
import { createPrismaClient, type Db } from "@steward/db/client";
import { serialize as serializeCookie } from "cookie";
import { useServer } from "graphql-ws/use/ws";
import type { DocumentNode, execute, GraphQLError, GraphQLSchema, parse, subscribe, validate } from "graphql";
import { createGraphQLError, createYoga, type Plugin } from "graphql-yoga";
import { createCoreDeps } from "@steward/core/deps";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import { Redis } from "ioredis";
import sirv from "sirv";
import { type WebSocket, WebSocketServer } from "ws";
import { authenticate, InvalidCredentialsPresented } from "./authenticate.ts";
import { CredentialCache } from "./sessionCache.ts";
import type { Context, ResponseCookie } from "./context.ts";
import { schema } from "./schema/index.ts";
import { createReconciliationExportHandler } from "./exports/reconciliation.ts";
import { createApiMetrics } from "./metrics.ts";
import { graphqlLimitPlugins } from "./security/graphql-limits.ts";
import { applySecurityHeaders, dashboardHeaders } from "./security/http-headers.ts";
import { rejectUnstorableText, unstorableTextError } from "./security/text-input.ts";
import { clientAddress, createRateLimiter } from "./security/rate-limit.ts";
import {
  allowedOrigins,
  createConnectionGate,
  operationsOverCap,
  originAllowed,
  refusedSocket,
  refuseForeignOrigin,
  refuseUpgrade,
} from "./security/websocket.ts";
import { maskedErrors, UNAVAILABLE_MESSAGE } from "./unavailable.ts";
import { sharedSubscriptionExecution } from "./shared-subscriptions.ts";
import { createStripeWebhookHandler } from "./webhooks/stripe.ts";
import { startWatchdog, type Watchdog } from "./watchdog.ts";

interface ServerContext {
  req: IncomingMessage;
  /** Authenticated once per request by the HTTP layer, before GraphQL runs. */
  actor: Actor;
  responseCookies: ResponseCookie[];
  /** The client's address (through trusted proxies) and user agent, for HTTP and websockets alike. */
  clientIp: string;
  userAgent?: string;
}

export interface App {
  /** Resolves with the URL it listens on. */
  start(): Promise<string>;
  stop(): Promise<void>;
  db: Db;
}

export function buildApp(env: Env, logger: Logger): App {
  // Every query is timed into this process's window: the database p95 health signal.
  const queryLatency = new QueryLatencyWindow();
  const db = createPrismaClient(env.DATABASE_URL, undefined, { onQuery: queryLatency.record });
  const events = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  // Alerts raised or cleared by core in this process publish `alertChanged` on this bus.
  const unregisterAlertEvents = publishAlertChangesTo(events.bus);
  const credentials = new CredentialCache(db, events.bus);
  const stopCredentialChanges = credentials.listen();
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on("error", () => undefined);
  const jobs = createBullJobQueues({
    redisUrl: env.REDIS_URL,
    prefix: env.REDIS_PREFIX,
    onError: (error) => logger.warn({ err: error.message }, "job queue error"),
  });
  // Built once for the process; every request's context carries it.
  const deps = createCoreDeps({ db, events: events.bus, jobs, env, logger });
  const metrics = createApiMetrics({ redis, prefix: env.REDIS_PREFIX, jobs });
  const stopQueryLatency = publishQueryLatency(redis, env.REDIS_PREFIX, "api", queryLatency);
  // Login and webhook counters: their own connection, whose commands wait for (re)connection, so
  // a login is counted rather than skipped while Redis (re)connects.
  const countersRedis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  countersRedis.on("error", () => undefined);
  const loginThrottle = createLoginThrottle(countersRedis, env.REDIS_PREFIX, {
    maxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
    failureWindowMinutes: env.LOGIN_FAILURE_WINDOW_MINUTES,
    slowdownBaseSeconds: env.LOGIN_SLOWDOWN_BASE_SECONDS,
    slowdownMaxSeconds: env.LOGIN_SLOWDOWN_MAX_SECONDS,
  });

  const setCookies: Plugin<object, ServerContext> = {
    onResponse({ response, serverContext }) {
      for (const cookie of serverContext?.responseCookies ?? []) {
        response.headers.append(
          "set-cookie",
          serializeCookie(cookie.name, cookie.value, {
            httpOnly: true,
            sameSite: "strict",
            secure: env.COOKIE_SECURE,
            path: "/",
            expires: cookie.expires,
          }),
        );
      }
    },
  };

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: env.NODE_ENV !== "production",
    maskedErrors,
    logging: {
      debug: (...args) => logger.debug(args),
      info: (...args) => logger.info(args),
      warn: (...args) => logger.warn(args),
      error: (...args) => logger.error(args),
    },
    // Only the custom header: any request has a content-type, so listing it would let cross-site
    // form posts (x-www-form-urlencoded, multipart) through. JSON POSTs pass as preflighted.
    plugins: [
      useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf"] }),
      setCookies,
      metrics.plugin,
      ...graphqlLimitPlugins(env),
      rejectUnstorableText(),
      // One account's subscribers (an operator's tabs, a token's connections) share each event's
      // result. Keyed by the account, not only its role: a field that one day reads who is asking
      // can then never hand one operator's answer to another.
      sharedSubscriptionExecution<Context>(({ actor }) =>
        actor.kind === "OPERATOR"
          ? `operator:${actor.id}:${actor.role}`
          : actor.kind === "API_TOKEN"
            ? `token:${actor.id}:${[...actor.scopes].sort().join(" ")}`
            : null,
      ),
    ],
    // One operation per request: a batch would multiply every limit above by its length.
    batching: false,
    context: ({ actor, responseCookies, clientIp, userAgent }) => ({
      db,
      env,
      events: events.bus,
      deps,
      jobs,
      actor,
      credentials,
      loginThrottle,
      clientIp,
      userAgent,
      responseCookies,
    }),
  });
  const rateLimiter = createRateLimiter(env, logger);

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientIp = clientAddress(req, env.TRUSTED_PROXY_HOPS);
    // Per address before authenticating, so guessing tokens is limited too.
    const addressWait = await rateLimiter.limitAddress(clientIp);
    if (addressWait !== null) return sendTooManyRequests(res, addressWait);
    let actor: Actor;
    try {
      actor = await authenticate(credentials, {
        cookieHeader: req.headers.cookie,
        authorizationHeader: req.headers.authorization,
      });
    } catch (error) {
      if (!(error instanceof InvalidCredentialsPresented)) throw error;
      // A bad token is not "anonymous": the integration must learn its credentials are wrong.
      return sendJson(res, 401, { errors: [{ message: error.message, extensions: { code: "UNAUTHENTICATED" } }] });
    }
    if (actor.kind === "API_TOKEN") {
      const tokenWait = await rateLimiter.limitToken(actor.id);
      if (tokenWait !== null) return sendTooManyRequests(res, tokenWait);
    }
    const userAgent = req.headers["user-agent"];
    await yoga.handle(req, res, { req, actor, responseCookies: [], clientIp, userAgent });
  }

  /**
   * Prometheus text for a scraper holding an API token with the `metrics:read` scope (Bearer), nobody
   * else: request rates, error counts and job outcomes tell an attacker when and how to strike.
   */
  async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientIp = clientAddress(req, env.TRUSTED_PROXY_HOPS);
    const addressWait = await rateLimiter.limitAddress(clientIp);
    if (addressWait !== null) return sendTooManyRequests(res, addressWait);
    let actor: Actor;
    try {
      actor = await authenticate(credentials, { authorizationHeader: req.headers.authorization });
    } catch (error) {
      if (!(error instanceof InvalidCredentialsPresented)) throw error;
      actor = ANONYMOUS;
    }
    if (actor.kind === "ANONYMOUS") {
      res.setHeader("www-authenticate", 'Bearer realm="metrics"');
      return sendJson(res, 401, { error: "An API token with the metrics:read scope is required" });
    }
    if (!tokenHasScope(actor, "metrics:read"))
      return sendJson(res, 403, { error: "This token lacks the metrics:read scope" });
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { "content-type": contentType });
    res.end(body);
  }

  const serveDashboard = env.WEB_DIST_DIR ? sirv(env.WEB_DIST_DIR, { single: true, etag: true }) : null;
  // Stripe webhooks need the raw body for signature verification, so they are routed before Yoga.
  const stripeWebhook = createStripeWebhookHandler({
    db,
    env,
    jobs,
    logger,
    redis: countersRedis,
    limitAddress: (address) => rateLimiter.limitWebhookAddress(address),
    clientAddress: (req) => clientAddress(req, env.TRUSTED_PROXY_HOPS),
    rejected: (reason) => metrics.webhookRejected(reason),
  });
  const reconciliationExport = createReconciliationExportHandler({ db, credentials, logger });

  const dashboardSecurityHeaders = env.WEB_DIST_DIR ? dashboardHeaders(env.WEB_DIST_DIR) : {};
  const server = createServer((req, res) => {
    applySecurityHeaders(res, env);
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (path === "/webhooks/stripe") return stripeWebhook(req, res);
    if (path?.startsWith("/exports/reconciliation/")) {
      reconciliationExport(req, res, path).catch((error: unknown) => {
        logger.error({ err: error }, "reconciliation export failed");
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: "Unexpected error." }] });
      });
      return;
    }
    if (path === "/metrics") {
      serveMetrics(req, res).catch((error: unknown) => {
        logger.error({ err: error }, "metrics failed");
        if (!res.headersSent) sendJson(res, 500, { error: "metrics unavailable" });
      });
      return;
    }
    if (path === "/readyz") {
      void readiness(db, redis).then((checks) =>
        sendJson(res, Object.values(checks).every((ok) => ok) ? 200 : 503, checks),
      );
      return;
    }
    if (path === "/graphql" || !serveDashboard) {
      handleGraphQL(req, res).catch((error: unknown) => {
        // Authentication reads the session: with the database down, say so (typed, retryable).
        if (isDatabaseUnavailable(error)) {
          if (!res.headersSent)
            sendJson(res, 503, { errors: [{ message: UNAVAILABLE_MESSAGE, extensions: { code: "UNAVAILABLE" } }] });
          return;
        }
        logger.error({ err: error }, "request failed before GraphQL ran");
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: "Unexpected error." }] });
      });
      return;
    }
    for (const [name, value] of Object.entries(dashboardSecurityHeaders)) res.setHeader(name, value);
    serveDashboard(req, res);
  });

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
  // A socket lives as long as its session: closed at sign-out (on every API instance, through
  // the bus) and when the session expires, so no event reaches a signed-out browser.
  const socketsBySession = new Map<string, Set<WebSocket>>();
  const closeSessionSockets = (sessionId: string) => {
    for (const socket of socketsBySession.get(sessionId) ?? []) socket.close(4401, "Session ended");
    socketsBySession.delete(sessionId);
  };
  const sessionEnded = events.bus.subscribe("sessionEnded");
  void (async () => {
    for await (const event of sessionEnded) closeSessionSockets(event.sessionId);
  })();
  /** What Yoga's envelop (limits, masking) built for each websocket operation, to run it with. */
  interface EnvelopedOperation {
    schema: GraphQLSchema;
    parse: typeof parse;
    validate: typeof validate;
    execute: typeof execute;
    subscribe: typeof subscribe;
    contextFactory: () => Promise<Context> | Context;
  }
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
        const enveloped: EnvelopedOperation = yoga.getEnveloped({
          req: ctx.extra.request,
          actor,
          responseCookies: [],
          clientIp: clientAddress(ctx.extra.request, env.TRUSTED_PROXY_HOPS),
          userAgent: ctx.extra.request.headers["user-agent"],
          params: payload,
        });
        const unstorable = unstorableTextError(payload);
        if (unstorable) return [createGraphQLError(unstorable.message, { extensions: unstorable.extensions })];
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
        if (actor.kind === "OPERATOR" && actor.sessionId) {
          const { sessionId } = actor;
          const socket = ctx.extra.socket;
          const sockets = socketsBySession.get(sessionId) ?? new Set<WebSocket>();
          sockets.add(socket);
          socketsBySession.set(sessionId, sockets);
          const untilExpiry = (actor.sessionExpiresAt?.getTime() ?? Date.now()) - Date.now();
          const expiry = setTimeout(() => socket.close(4401, "Session expired"), Math.min(untilExpiry, 2 ** 31 - 1));
          socket.once("close", () => {
            clearTimeout(expiry);
            sockets.delete(socket);
            if (sockets.size === 0) socketsBySession.delete(sessionId);
          });
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

  let watchdog: Watchdog | null = null;
  return {
    db,
    async start() {
      await new Promise<void>((resolve) => server.listen(env.API_PORT, env.API_HOST, resolve));
      watchdog ??= startWatchdog(env, logger);
      const address = server.address() as AddressInfo;
      return `http://${env.API_HOST}:${address.port}`;
    },
    async stop() {
      await watchdog?.stop();
      watchdog = null;
      await sessionEnded.return?.();
      await stopCredentialChanges();
      await wsHandler.dispose();
      await new Promise<void>((resolve) => {
        wsServer.close(() => resolve());
      });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      unregisterAlertEvents();
      await events.close();
      await metrics.stop();
      await stopQueryLatency();
      await jobs.close();
      redis.disconnect();
      countersRedis.disconnect();
      rateLimiter.close();
      await db.$disconnect();
    },
  };
}

async function readiness(db: Db, redis: Redis): Promise<{ postgres: boolean; redis: boolean }> {
  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);
  const [postgres, redisOk] = await Promise.all([
    within(db.$queryRaw`SELECT 1`, 2000).then(
      () => true,
      () => false,
    ),
    within(redis.ping(), 2000).then(
      (reply) => reply === "PONG",
      () => false,
    ),
  ]);
  return { postgres, redis: redisOk };
}

function sendTooManyRequests(res: ServerResponse, retryAfterSeconds: number): void {
  res.setHeader("retry-after", String(retryAfterSeconds));
  sendJson(res, 429, {
    errors: [{ message: `Too many requests; retry in ${retryAfterSeconds} s`, extensions: { code: "RATE_LIMITED" } }],
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
