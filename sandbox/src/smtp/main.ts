/**
 * Standalone SMTP sandbox for dev and demo:
 *   SMTP_SANDBOX_PORT (default 2525), SMTP_SANDBOX_HTTP_PORT (default 12113), SMTP_SANDBOX_HOST (127.0.0.1).
 * Point Steward at it with SMTP_HOST/SMTP_PORT (their defaults already match); read what arrived
 * at http://127.0.0.1:12113/messages.
 */
import { startSmtpSandbox } from "./server.ts";

function envPort(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} is not a port: ${value}`);
  return port;
}

const sandbox = await startSmtpSandbox({
  host: process.env["SMTP_SANDBOX_HOST"] || "127.0.0.1",
  port: envPort("SMTP_SANDBOX_PORT", 2525),
  httpPort: envPort("SMTP_SANDBOX_HTTP_PORT", 12113),
});
console.log(
  `SMTP sandbox listening on smtp://${sandbox.host}:${sandbox.port}; messages at ${sandbox.httpUrl}/messages`,
);

let closing = false;
const shutdown = (signal: string): void => {
  if (closing) return;
  closing = true;
  console.log(`SMTP sandbox: ${signal}, closing`);
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
