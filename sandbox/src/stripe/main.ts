/**
 * Standalone Stripe sandbox for dev and demo:
 *   STRIPE_SANDBOX_PORT (default 12111), STRIPE_SANDBOX_HOST (default 127.0.0.1),
 *   STRIPE_API_KEY (default sk_test_steward_sandbox), STRIPE_WEBHOOK_URL (optional),
 *   STRIPE_WEBHOOK_SECRET (default whsec_steward_sandbox),
 *   STRIPE_SANDBOX_RATE_LIMIT (requests/s per key, default 25; 0 or "off" disables).
 */
import {
  DEFAULT_API_KEY,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  DEFAULT_WEBHOOK_SECRET,
  startStripeSandbox,
} from "./server.ts";

function envPort(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`STRIPE_SANDBOX_PORT is not a port: ${value}`);
  return port;
}

function envRateLimit(value: string | undefined): number | false {
  if (value === undefined || value === "") return DEFAULT_RATE_LIMIT_PER_SECOND;
  if (value === "0" || value.toLowerCase() === "off" || value.toLowerCase() === "false") return false;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`STRIPE_SANDBOX_RATE_LIMIT must be a positive integer or "off": ${value}`);
  return n;
}

const env = process.env;
const webhookUrl = env["STRIPE_WEBHOOK_URL"];
const sandbox = await startStripeSandbox({
  port: envPort(env["STRIPE_SANDBOX_PORT"], 12111),
  host: env["STRIPE_SANDBOX_HOST"] || "127.0.0.1",
  apiKey: env["STRIPE_API_KEY"] || DEFAULT_API_KEY,
  webhookSecret: env["STRIPE_WEBHOOK_SECRET"] || DEFAULT_WEBHOOK_SECRET,
  rateLimitPerSecond: envRateLimit(env["STRIPE_SANDBOX_RATE_LIMIT"]),
  ...(webhookUrl ? { webhookUrl } : {}),
});

console.log(`Stripe sandbox listening on ${sandbox.url} (webhooks → ${webhookUrl || "none"})`);
console.log(`SDK: new Stripe(key, { host: '${sandbox.host}', port: ${sandbox.port}, protocol: 'http' })`);

let closing = false;
const shutdown = (signal: string): void => {
  if (closing) return;
  closing = true;
  console.log(`Stripe sandbox: ${signal}, closing`);
  sandbox.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
