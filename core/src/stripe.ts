// Where Stripe is, and with which credentials: the sandbox by default outside production. The
// client itself is built by core/src/adapters/stripe.ts.
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

export type StripeEnv = Pick<
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
