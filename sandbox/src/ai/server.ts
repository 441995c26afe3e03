// A stand-in AI scoring provider for the demo and tests: `POST /v1/score { text, rating }` →
// `{ confidence, labels }`. It can be told to be slow, to fail (HTTP 500) or to be down
// (connections dropped), through `POST /_sandbox/mode` or the returned handle.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type AiMode = "ok" | "slow" | "fail" | "down";

export interface AiSandbox {
  url: string;
  port: number;
  setMode(mode: AiMode, delayMs?: number): void;
  /** Requests answered so far (to check retries and fallbacks). */
  requestCount(): number;
  stop(): Promise<void>;
}

// A deliberately different model from core's deterministic classifier, so a score's origin shows.
const SUSPICIOUS = ["http", "www.", "click", "cheap", "buy", "crypto", "casino", "scam", "rubbish", "plumber"];

function score(text: string, rating: number): { confidence: number; labels: string[] } {
  const lower = text.toLowerCase();
  const labels = SUSPICIOUS.filter((word) => lower.includes(word));
  const lengthPenalty = text.trim().length < 20 ? 0.2 : 0;
  const extremeRating = rating === 1 ? 0.05 : 0;
  const confidence = Math.max(0.01, Math.min(0.99, 0.97 - 0.3 * labels.length - lengthPenalty - extremeRating));
  return { confidence: Math.round(confidence * 1000) / 1000, labels };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as unknown;
}

export async function startAiSandbox(options: { port?: number; host?: string } = {}): Promise<AiSandbox> {
  let mode: AiMode = "ok";
  let delayMs = 0;
  let requests = 0;
  const server = createServer((request, response) => {
    void (async () => {
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      try {
        if (request.method === "POST" && request.url === "/_sandbox/mode") {
          const body = (await readJson(request)) as { mode?: AiMode; delayMs?: number };
          if (!body.mode || !["ok", "slow", "fail", "down"].includes(body.mode))
            return send(400, { error: "mode must be ok|slow|fail|down" });
          mode = body.mode;
          delayMs = body.delayMs ?? 10_000;
          return send(200, { mode, delayMs });
        }
        if (request.method === "GET" && request.url === "/health")
          return send(mode === "ok" || mode === "slow" ? 200 : 503, { mode });
        if (request.method !== "POST" || request.url !== "/v1/score") return send(404, { error: "not found" });
        requests++;
        if (mode === "down") {
          request.socket.destroy();
          return;
        }
        if (mode === "fail") return send(500, { error: "model overloaded" });
        if (mode === "slow") await new Promise((resolve) => setTimeout(resolve, delayMs));
        const body = (await readJson(request)) as { text?: unknown; rating?: unknown };
        if (typeof body.text !== "string" || typeof body.rating !== "number")
          return send(400, { error: "text and rating required" });
        return send(200, score(body.text, body.rating));
      } catch {
        if (!response.headersSent) send(400, { error: "bad request" });
      }
    })();
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    setMode(next, nextDelayMs = 10_000) {
      mode = next;
      delayMs = nextDelayMs;
    },
    requestCount: () => requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
