// The GraphQL server (Yoga): schema, plugins (CSRF, cookies, metrics, limits, shared
// subscription execution) and the per-operation context built from the process's resources.
// HTTP requests reach it through routes.ts, websocket operations through websocket.ts.
import type { IncomingMessage } from "node:http";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import type { Actor } from "@steward/core/actor";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import { serialize as serializeCookie } from "cookie";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { Context, ResponseCookie } from "./context.ts";
import type { ApiResources } from "./resources.ts";
import { schema } from "./schema/index.ts";
import { graphqlLimitPlugins } from "./security/graphql-limits.ts";
import { subscriptionsOverWebsocketOnly } from "./security/http-subscriptions.ts";
import { rejectUnstorableText } from "./security/text-input.ts";
import { sharedSubscriptionExecution } from "./shared-subscriptions.ts";
import { maskedErrors } from "./unavailable.ts";

export interface ServerContext {
  req: IncomingMessage;
  /** Authenticated once per request by the HTTP layer, before GraphQL runs. */
  actor: Actor;
  responseCookies: ResponseCookie[];
  /** The client's address (through trusted proxies) and user agent, for HTTP and websockets alike. */
  clientIp: string;
  userAgent?: string;
}

export type StewardYoga = YogaServerInstance<ServerContext, Context>;

export function buildYoga(env: Env, logger: Logger, resources: ApiResources, metricsPlugin: Plugin): StewardYoga {
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

  return createYoga<ServerContext, Context>({
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
      metricsPlugin,
      ...graphqlLimitPlugins(env),
      rejectUnstorableText(),
      subscriptionsOverWebsocketOnly(),
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
      db: resources.db,
      env,
      events: resources.events.bus,
      deps: resources.deps,
      jobs: resources.jobs,
      payments: resources.payments,
      mail: resources.mail,
      copyIn: resources.copyIn,
      actor,
      loginThrottle: resources.loginThrottle,
      credentials: resources.credentials,
      clientIp,
      userAgent,
      responseCookies,
    }),
  });
}
