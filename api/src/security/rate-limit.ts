// Request rate limits per client address and per API token, counted in Redis so that every API
// instance behind the load balancer shares one budget. Over the limit: 429 with Retry-After.
import type { IncomingMessage } from "node:http";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

export interface RateLimiter {
  /** Seconds to wait, or null if the request may go on. */
  limitAddress(address: string): Promise<number | null>;
  limitToken(tokenId: string): Promise<number | null>;
  /** Websocket upgrades per address: a budget of its own, so sockets and requests don't starve each other. */
  limitSocketAddress(address: string): Promise<number | null>;
  /** Stripe webhook deliveries per address: their own budget, so a flood there cannot starve GraphQL. */
  limitWebhookAddress(address: string): Promise<number | null>;
  close(): void;
}

export function createRateLimiter(
  env: Pick<
    Env,
    | "REDIS_URL"
    | "REDIS_PREFIX"
    | "RATE_LIMIT_PER_ADDRESS"
    | "RATE_LIMIT_PER_TOKEN"
    | "RATE_LIMIT_WINDOW_SECONDS"
    | "WS_CONNECTS_PER_ADDRESS"
    | "STRIPE_WEBHOOKS_PER_ADDRESS"
  >,
  logger: Logger,
): RateLimiter {
  // Its own connection, whose commands wait for (re)connection once instead of failing at once:
  // a limiter that fails open while Redis is still connecting would not limit a burst at boot.
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${env.REDIS_PREFIX}:ratelimit:${name}`,
      points,
      duration: env.RATE_LIMIT_WINDOW_SECONDS,
    });
  const perAddress = limiter("address", env.RATE_LIMIT_PER_ADDRESS);
  const perToken = limiter("token", env.RATE_LIMIT_PER_TOKEN);
  const socketsPerAddress = limiter("ws-address", env.WS_CONNECTS_PER_ADDRESS);
  const webhooksPerAddress = limiter("webhook-address", env.STRIPE_WEBHOOKS_PER_ADDRESS);

  async function consume(target: RateLimiterRedis, key: string): Promise<number | null> {
    try {
      await target.consume(key);
      return null;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      // Redis unreachable: serve the request rather than fail everything (readiness reports Redis).
      logger.warn(
        { err: rejection instanceof Error ? rejection.message : String(rejection) },
        "rate limiter unavailable",
      );
      return null;
    }
  }

  return {
    limitAddress: (address) => consume(perAddress, address),
    limitToken: (tokenId) => consume(perToken, tokenId),
    limitSocketAddress: (address) => consume(socketsPerAddress, address),
    limitWebhookAddress: (address) => consume(webhooksPerAddress, address),
    close: () => redis.disconnect(),
  };
}

/**
 * The client's address. Behind `hops` trusted proxies it is the hops-th entry from the right of
 * X-Forwarded-For (entries further left are whatever the client sent, so they cannot be trusted).
 */
export function clientAddress(req: IncomingMessage, hops: number): string {
  const socketAddress = req.socket.remoteAddress ?? "unknown";
  if (hops === 0) return socketAddress;
  const header = req.headers["x-forwarded-for"];
  const forwarded = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  return forwarded[forwarded.length - hops] ?? forwarded[0] ?? socketAddress;
}
