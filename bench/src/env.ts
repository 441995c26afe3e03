// Settings every benchmark's API takes on top of its own.

/**
 * A benchmark's clients all come from 127.0.0.1 with one session or token, standing in for many
 * operators and integrations; under the production limits (600 requests a minute per address)
 * they would measure 429s. The limiter itself is attacked in tests/integration/session-hardening.test.ts.
 */
export const BENCH_RATE_LIMITS = {
  RATE_LIMIT_PER_ADDRESS: "1000000000",
  RATE_LIMIT_PER_TOKEN: "1000000000",
  // The Stripe webhook endpoint has its own per-address limit (one Stripe, many events).
  STRIPE_WEBHOOKS_PER_ADDRESS: "1000000000",
} as const;
