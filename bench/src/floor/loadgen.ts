// A closed-loop load generator in its own process (pinned to its own core by the caller): N
// keep-alive connections, each sending its next request as soon as the previous one is answered,
// for a fixed time. Prints one JSON line: requests, errors, elapsed seconds, p50 and p99 in ms.
// Webhook mode signs a fresh, unique Stripe event per request (as Stripe would send them).
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

export interface LoadgenRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadgenConfig {
  baseUrl: string;
  seconds: number;
  connections: number;
  /** Sent in turn, round robin across all connections. */
  requests?: LoadgenRequest[];
  /** Instead of `requests`: a signed charge.succeeded event per request to this path. */
  webhook?: { path: string; secret: string; label: string };
}

export interface LoadgenResult {
  requests: number;
  errors: number;
  firstError?: string;
  seconds: number;
  p50: number;
  p99: number;
}

function signedEvent(secret: string, id: string): LoadgenRequest {
  const body = JSON.stringify({
    id,
    object: "event",
    type: "charge.succeeded",
    api_version: "2025-01-01",
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: `ch_${id}`, object: "charge" } },
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return {
    path: "",
    headers: { "content-type": "application/json", "stripe-signature": `t=${timestamp},v1=${signature}` },
    body,
  };
}

async function run(config: LoadgenConfig): Promise<LoadgenResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const nextRequest = (): LoadgenRequest => {
    const index = next++;
    if (config.webhook) {
      const event = signedEvent(config.webhook.secret, `evt_${config.webhook.label}_${process.pid}_${index}`);
      return { ...event, path: config.webhook.path };
    }
    const requests = config.requests!;
    return requests[index % requests.length]!;
  };
  const send = (req: LoadgenRequest): Promise<string | null> =>
    new Promise((resolve) => {
      const outgoing = request(
        `${config.baseUrl}${req.path}`,
        {
          method: "POST",
          agent,
          headers: { ...req.headers, "content-length": Buffer.byteLength(req.body) },
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => {
            if (response.statusCode !== 200) resolve(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
            else if (text.includes('"errors"')) resolve(text.slice(0, 300));
            else resolve(null);
          });
        },
      );
      outgoing.on("error", (error) => resolve(error.message));
      outgoing.end(req.body);
    });

  const started = performance.now();
  const deadline = started + config.seconds * 1000;
  await Promise.all(
    Array.from({ length: config.connections }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        const failure = await send(nextRequest());
        latencies.push(performance.now() - sent);
        if (failure) {
          errors++;
          firstError ??= failure;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return { requests: latencies.length, errors, firstError, seconds, p50: at(0.5), p99: at(0.99) };
}

// The configuration is a JSON file (a few request bodies can be larger than one argument may be).
const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadgenConfig;
process.stdout.write(`${JSON.stringify(await run(config))}\n`);
