// Builds the API: GraphQL over HTTP and graphql-ws on one port and path, health endpoints,
// and the built dashboard on the same origin. `main.ts` only calls this; tests do too.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import type { Actor } from "@steward/core/actor";
import { isDatabaseUnavailable } from "@steward/core/availability";
import type { Env } from "@steward/core/env";
import { createEventBus } from "@steward/core/events";
import type { Logger } from "@steward/core/logger";
import { createPrismaClient, type Db } from "@steward/db/client";
import { serialize as serializeCookie } from "cookie";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type Plugin } from "graphql-yoga";
import { connectionFor, defaultJobOptions, JOBS_QUEUE, type JobData } from "@steward/worker/queue";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import sirv from "sirv";
import { type WebSocket, WebSocketServer } from "ws";
import { authenticate, InvalidCredentialsPresented } from "./authenticate.ts";
import type { Context, ResponseCookie } from "./context.ts";
import { schema } from "./schema/index.ts";
import { maskedErrors, UNAVAILABLE_MESSAGE } from "./unavailable.ts";
import { createStripeWebhookHandler } from "./webhooks/stripe.ts";

interface ServerContext {
  req: IncomingMessage;
  /** Authenticated once per request by the HTTP layer, before GraphQL runs. */
  actor: Actor;
  responseCookies: ResponseCookie[];
}

export interface App {
  /** Resolves with the URL it listens on. */
  start(): Promise<string>;
  stop(): Promise<void>;
  db: Db;
}

export function buildApp(env: Env, logger: Logger): App {
  const db = createPrismaClient(env.DATABASE_URL);
  const events = createEventBus(env.REDIS_URL, env.REDIS_PREFIX);
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on("error", () => undefined);
  const jobs = new Queue<JobData>(JOBS_QUEUE, {
    connection: connectionFor(env.REDIS_URL),
    prefix: env.REDIS_PREFIX,
    defaultJobOptions,
  });
  jobs.on("error", (error) => logger.warn({ err: error.message }, "job queue error"));

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
    plugins: [useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf"] }), setCookies],
    context: ({ request, req, actor, responseCookies }) => ({
      db,
      env,
      events: events.bus,
      jobs,
      actor,
      clientIp: req.socket.remoteAddress ?? "unknown",
      userAgent: request.headers.get("user-agent") ?? undefined,
      responseCookies,
    }),
  });

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let actor: Actor;
    try {
      actor = await authenticate(db, {
        cookieHeader: req.headers.cookie,
        authorizationHeader: req.headers.authorization,
      });
    } catch (error) {
      if (!(error instanceof InvalidCredentialsPresented)) throw error;
      // A bad token is not "anonymous": the integration must learn its credentials are wrong.
      return sendJson(res, 401, { errors: [{ message: error.message, extensions: { code: "UNAUTHENTICATED" } }] });
    }
    await yoga.handle(req, res, { req, actor, responseCookies: [] });
  }

  const serveDashboard = env.WEB_DIST_DIR ? sirv(env.WEB_DIST_DIR, { single: true, etag: true }) : null;
  // Stripe webhooks need the raw body for signature verification, so they are routed before Yoga.
  const stripeWebhook = createStripeWebhookHandler({ db, env, jobs, logger });

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (path === "/webhooks/stripe") return stripeWebhook(req, res);
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
    serveDashboard(req, res);
  });

  const wsServer = new WebSocketServer({ server, path: "/graphql" });
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
  const wsHandler = useServer<Record<string, unknown> | undefined, { request: IncomingMessage; socket: WebSocket }>(
    {
      schema,
      // The socket authenticates once, from its cookie or connectionParams.authorization.
      context: async (ctx): Promise<Context> => {
        const authorization = ctx.connectionParams?.authorization;
        const actor = await authenticate(db, {
          cookieHeader: ctx.extra.request.headers.cookie ?? null,
          authorizationHeader: typeof authorization === "string" ? authorization : null,
        });
        return {
          db,
          env,
          events: events.bus,
          jobs,
          actor,
          clientIp: ctx.extra.request.socket.remoteAddress ?? "unknown",
          userAgent: ctx.extra.request.headers["user-agent"],
          responseCookies: [],
        };
      },
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        let actor: Actor;
        try {
          actor = await authenticate(db, {
            cookieHeader: ctx.extra.request.headers.cookie ?? null,
            authorizationHeader: typeof authorization === "string" ? authorization : null,
          });
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
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

  return {
    db,
    async start() {
      await new Promise<void>((resolve) => server.listen(env.API_PORT, env.API_HOST, resolve));
      const address = server.address() as AddressInfo;
      return `http://${env.API_HOST}:${address.port}`;
    },
    async stop() {
      await sessionEnded.return?.();
      await wsHandler.dispose();
      await new Promise<void>((resolve) => {
        wsServer.close(() => resolve());
      });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await events.close();
      await jobs.close();
      redis.disconnect();
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
