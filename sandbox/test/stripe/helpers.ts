/** Shared test helpers: a sandbox on an ephemeral port, SDK clients, a webhook receiver. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { startStripeSandbox } from "../../src/stripe/server.ts";
import type { StripeSandbox, StripeSandboxOptions } from "../../src/stripe/server.ts";

export async function startSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  // Tests fire requests in bursts; the rate-limit test turns it back on explicitly.
  return startStripeSandbox({ port: 0, rateLimitPerSecond: false, ...options });
}

export function sdk(
  sandbox: StripeSandbox,
  options: {
    maxNetworkRetries?: number;
    apiKey?: string;
    timeout?: number;
  } = {},
): Stripe {
  return new Stripe(options.apiKey ?? sandbox.apiKey, {
    host: sandbox.host,
    port: sandbox.port,
    protocol: "http",
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  });
}

export interface ReceivedWebhook {
  body: string;
  signature: string;
  /** The event id, parsed without verification, for assertions on order. */
  eventId: string;
  eventType: string;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Status codes to answer, in order; 200 once exhausted. */
  script: number[];
  close(): Promise<void>;
}

export async function startReceiver(script: number[] = []): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: WebhookReceiver = {
    url: "",
    received,
    script,
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const parsed = JSON.parse(body) as { id: string; type: string };
      const signature = req.headers["stripe-signature"];
      received.push({
        body,
        signature: typeof signature === "string" ? signature : "",
        eventId: parsed.id,
        eventType: parsed.type,
      });
      res.statusCode = receiver.script.shift() ?? 200;
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** POST/GET a /_sandbox control endpoint with JSON. */
export async function control(
  sandbox: StripeSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}
