// The one place that builds a Stripe client. Production talks to Stripe itself; development and
// tests talk to the local Stripe-compatible sandbox (sandbox/src/stripe) through the same SDK and
// the same code path, only host/port/protocol differ.
import Stripe from "stripe";
import type { Env } from "./env.ts";

/** The sandbox's defaults (sandbox/src/stripe/server.ts); never used in production. */
export const SANDBOX_API_KEY = "sk_test_steward_sandbox";
export const SANDBOX_WEBHOOK_SECRET = "whsec_steward_sandbox";
export const SANDBOX_HOST = "127.0.0.1";
export const SANDBOX_PORT = 12111;

/** How old a signed webhook may be (seconds): Stripe's own default tolerance. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface StripeSettings {
  apiKey: string;
  webhookSecret: string;
  /** Absent: the SDK's default (api.stripe.com over https). */
  host?: string;
  port?: number;
  protocol?: "http" | "https";
  timeoutMs: number;
}

type StripeEnv = Pick<
  Env,
  | "NODE_ENV"
  | "STRIPE_API_KEY"
  | "STRIPE_WEBHOOK_SECRET"
  | "STRIPE_API_HOST"
  | "STRIPE_API_PORT"
  | "STRIPE_API_PROTOCOL"
  | "STRIPE_TIMEOUT_MS"
>;

/** Resolves the settings; production refuses to start without a real key and webhook secret. */
export function stripeSettings(env: StripeEnv): StripeSettings {
  const production = env.NODE_ENV === "production";
  if (production && !env.STRIPE_API_KEY)
    throw new Error("Invalid environment:\n  STRIPE_API_KEY: required in production");
  if (production && !env.STRIPE_WEBHOOK_SECRET)
    throw new Error("Invalid environment:\n  STRIPE_WEBHOOK_SECRET: required in production");
  const host = env.STRIPE_API_HOST ?? (production ? undefined : SANDBOX_HOST);
  const settings: StripeSettings = {
    apiKey: env.STRIPE_API_KEY ?? SANDBOX_API_KEY,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? SANDBOX_WEBHOOK_SECRET,
    timeoutMs: env.STRIPE_TIMEOUT_MS,
  };
  if (host !== undefined) {
    settings.host = host;
    settings.port = env.STRIPE_API_PORT ?? (env.STRIPE_API_HOST ? undefined : SANDBOX_PORT);
    settings.protocol = env.STRIPE_API_PROTOCOL ?? (env.STRIPE_API_HOST ? "https" : "http");
    if (settings.port === undefined) delete settings.port;
  } else if (env.STRIPE_API_PORT !== undefined || env.STRIPE_API_PROTOCOL !== undefined) {
    throw new Error("Invalid environment:\n  STRIPE_API_PORT/STRIPE_API_PROTOCOL: set STRIPE_API_HOST too");
  }
  return settings;
}

/**
 * The SDK retries network errors, 409s, 429s and 5xx twice with backoff, re-sending the same
 * Idempotency-Key, so a retried refund is the same refund.
 */
export function createStripeClient(env: StripeEnv): Stripe {
  const settings = stripeSettings(env);
  return new Stripe(settings.apiKey, {
    maxNetworkRetries: 2,
    timeout: settings.timeoutMs,
    ...(settings.host !== undefined ? { host: settings.host } : {}),
    ...(settings.port !== undefined ? { port: settings.port } : {}),
    ...(settings.protocol !== undefined ? { protocol: settings.protocol } : {}),
  });
}

const clients = new WeakMap<object, Stripe>();

/** One client per loaded environment (the API and the worker each load theirs once at boot). */
export function stripeClientFor(env: StripeEnv): Stripe {
  let client = clients.get(env);
  if (!client) {
    client = createStripeClient(env);
    clients.set(env, client);
  }
  return client;
}

/** Transient: worth retrying later with the same idempotency key (network, 409 in-flight, 429, 5xx). */
export function isTransientStripeError(error: unknown): boolean {
  if (!(error instanceof Stripe.errors.StripeError)) return false;
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    error instanceof Stripe.errors.StripeAPIError
  )
    return true;
  // 409: the same idempotency key is still in flight (a concurrent retry); 400 idempotency errors are permanent.
  const status = error.statusCode ?? 0;
  return status === 409 || status === 429 || status >= 500 || status === 0;
}

/** Stripe answered and refused (invalid request, card, auth...): retrying the same call will not help. */
export function isPermanentStripeError(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeError && !isTransientStripeError(error);
}

export function stripeErrorCode(error: unknown): string | null {
  return error instanceof Stripe.errors.StripeError ? (error.code ?? null) : null;
}

export type { Stripe };
