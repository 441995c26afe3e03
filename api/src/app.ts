// Builds the API: GraphQL over HTTP and graphql-ws on one port and path, health endpoints,
// and the built dashboard on the same origin. `main.ts` only calls this; tests do too.
// The concerns live beside it: resources.ts (dependencies, built once), yoga.ts (GraphQL),
// routes.ts (HTTP), websocket.ts (graphql-ws and socket auth), readiness.ts (/readyz).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { CoreDeps } from "@steward/core/deps";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import type { Db } from "@steward/db/client";
import { createApiMetrics } from "./metrics.ts";
import { buildResources } from "./resources.ts";
import { createRequestHandler } from "./routes.ts";
import { createRateLimiter } from "./security/rate-limit.ts";
import { startWatchdog, type Watchdog } from "./watchdog.ts";
import { attachWebSockets } from "./websocket.ts";
import { buildYoga } from "./yoga.ts";

export interface App {
  /** Resolves with the URL it listens on. */
  start(): Promise<string>;
  stop(): Promise<void>;
  db: Db;
  /** The process's core dependencies (tests call core with them). */
  deps: CoreDeps;
}

export function buildApp(env: Env, logger: Logger): App {
  const resources = buildResources(env, logger);
  const metrics = createApiMetrics({ redis: resources.redis, prefix: env.REDIS_PREFIX, jobs: resources.jobs });
  const rateLimiter = createRateLimiter(env, logger);
  const yoga = buildYoga(env, logger, resources, metrics.plugin);
  const server = createServer(createRequestHandler({ env, logger, resources, yoga, metrics, rateLimiter }));
  const sockets = attachWebSockets(server, {
    env,
    logger,
    credentials: resources.credentials,
    events: resources.events.bus,
    yoga,
    rateLimiter,
  });

  let watchdog: Watchdog | null = null;
  return {
    db: resources.db,
    deps: resources.deps,
    async start() {
      await new Promise<void>((resolve) => server.listen(env.API_PORT, env.API_HOST, resolve));
      watchdog ??= startWatchdog(env, logger, resources.deps);
      const address = server.address() as AddressInfo;
      return `http://${env.API_HOST}:${address.port}`;
    },
    async stop() {
      await watchdog?.stop();
      watchdog = null;
      await sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metrics.stop();
      rateLimiter.close();
      await resources.close();
    },
  };
}
