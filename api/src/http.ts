// Small answers the HTTP layer writes itself (outside GraphQL).
import type { ServerResponse } from "node:http";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export function sendTooManyRequests(res: ServerResponse, retryAfterSeconds: number): void {
  res.setHeader("retry-after", String(retryAfterSeconds));
  sendJson(res, 429, {
    errors: [{ message: `Too many requests; retry in ${retryAfterSeconds} s`, extensions: { code: "RATE_LIMITED" } }],
  });
}
