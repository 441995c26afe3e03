// HTTP routing: health and readiness, the Stripe webhook (raw body, before Yoga), reconciliation
// exports, Prometheus metrics, GraphQL (authenticated and rate-limited here, before Yoga runs)
// and the built dashboard on the same origin.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Actor, ANONYMOUS } from "@steward/core/actor";
import { isDatabaseUnavailable } from "@steward/core/availability";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import { tokenHasScope } from "@steward/core/permissions";
import sirv from "sirv";
import { authenticate, InvalidCredentialsPresented } from "./authenticate.ts";
import { createReconciliationExportHandler } from "./exports/reconciliation.ts";
import { sendJson, sendTooManyRequests } from "./http.ts";
import type { ApiMetrics } from "./metrics.ts";
import { isReady, readiness } from "./readiness.ts";
import type { ApiResources } from "./resources.ts";
import { applySecurityHeaders, dashboardHeaders } from "./security/http-headers.ts";
import { clientAddress, type RateLimiter } from "./security/rate-limit.ts";
import { UNAVAILABLE_MESSAGE } from "./unavailable.ts";
import { createStripeWebhookHandler } from "./webhooks/stripe.ts";
import type { StewardYoga } from "./yoga.ts";

export interface RouteDeps {
  env: Env;
  logger: Logger;
  resources: ApiResources;
  yoga: StewardYoga;
  metrics: ApiMetrics;
  rateLimiter: RateLimiter;
}

export function createRequestHandler(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { env, logger, resources, yoga, metrics, rateLimiter } = deps;
  const { db, credentials } = resources;

  /** The client's address, or null once answered 429: per address before authenticating, so guessing tokens is limited too. */
  async function admitAddress(req: IncomingMessage, res: ServerResponse): Promise<string | null> {
    const clientIp = clientAddress(req, env.TRUSTED_PROXY_HOPS);
    const wait = await rateLimiter.limitAddress(clientIp);
    if (wait === null) return clientIp;
    sendTooManyRequests(res, wait);
    return null;
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientIp = await admitAddress(req, res);
    if (clientIp === null) return;
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
    if ((await admitAddress(req, res)) === null) return;
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
    store: resources.deps,
    env,
    jobs: resources.jobs,
    payments: resources.payments,
    logger,
    redis: resources.countersRedis,
    limitAddress: (address) => rateLimiter.limitWebhookAddress(address),
    clientAddress: (req) => clientAddress(req, env.TRUSTED_PROXY_HOPS),
    rejected: (reason) => metrics.webhookRejected(reason),
  });
  const reconciliationExport = createReconciliationExportHandler({ db, credentials, logger });
  const dashboardSecurityHeaders = env.WEB_DIST_DIR ? dashboardHeaders(env.WEB_DIST_DIR) : {};

  return (req, res) => {
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
      void readiness(db, resources.redis).then((checks) => sendJson(res, isReady(checks) ? 200 : 503, checks));
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
  };
}
