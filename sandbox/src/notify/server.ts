/**
 * Local receivers for alert notifications (dev, demo and tests), speaking the real protocols:
 *   POST /slack/<path>    a Slack incoming webhook: checks the Block Kit shape, answers 200 "ok"
 *                         (400 "no_text" / "invalid_blocks" as Slack does)
 *   POST /v2/enqueue      PagerDuty Events API v2: 202 {status:"success", dedup_key} or 400 "invalid event"
 *   POST /webhook/<path>  a ticket webhook: verifies X-Steward-Signature (HMAC-SHA256 over "<t>.<body>")
 *                         with the configured secret, 401 when it does not match
 *   GET    /_sandbox/received   everything received, oldest first (?kind=slack|pagerduty|webhook)
 *   DELETE /_sandbox/received   forget it
 *   POST   /_sandbox/mode {mode:"ok"|"fail", count?}  fail: answer 500 (to the next `count` requests, or until ok)
 *   GET    /_sandbox/health
 * Never used in production.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type ReceiverKind = "slack" | "pagerduty" | "webhook";

export interface ReceivedNotification {
  seq: number;
  receivedAt: string;
  kind: ReceiverKind;
  path: string;
  headers: Record<string, string>;
  rawBody: string;
  body: unknown;
  /** What the receiver answered. */
  status: number;
  /** Webhooks only: whether the signature matched the secret. */
  signatureValid?: boolean;
  /** Why it was refused, when it was. */
  problem?: string;
}

export interface NotifySandboxOptions {
  port?: number;
  host?: string;
  /** The ticket webhook's shared HMAC secret. */
  webhookSecret?: string;
  /** Oldest signature timestamp accepted, in seconds (replay protection). Default 300. */
  webhookToleranceSeconds?: number;
}

export interface NotifySandbox {
  url: string;
  port: number;
  received(kind?: ReceiverKind): readonly ReceivedNotification[];
  /** Resolves once `predicate` holds (polling), or rejects after `timeoutMs`. */
  waitFor(
    predicate: (received: readonly ReceivedNotification[]) => boolean,
    timeoutMs?: number,
  ): Promise<readonly ReceivedNotification[]>;
  /** Answer 500 to the next `count` requests (Infinity: until setMode("ok")). */
  fail(count?: number): void;
  ok(): void;
  clear(): void;
  stop(): Promise<void>;
}

export const DEFAULT_WEBHOOK_SECRET = "whsec_steward_notify_sandbox";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const textObject = (value: unknown, type?: string, max = 3000): boolean =>
  isRecord(value) &&
  (type ? value.type === type : value.type === "plain_text" || value.type === "mrkdwn") &&
  typeof value.text === "string" &&
  value.text.length > 0 &&
  value.text.length <= max;

/** The part of Slack's Block Kit validation Steward's messages exercise. */
export function slackProblem(body: unknown): string | null {
  if (!isRecord(body)) return "invalid_payload";
  const hasText = typeof body.text === "string" && body.text.length > 0;
  if (body.blocks === undefined) return hasText ? null : "no_text";
  if (!Array.isArray(body.blocks) || body.blocks.length === 0 || body.blocks.length > 50) return "invalid_blocks";
  for (const block of body.blocks as unknown[]) {
    if (!isRecord(block)) return "invalid_blocks";
    switch (block.type) {
      case "header":
        if (!textObject(block.text, "plain_text", 150)) return "invalid_blocks";
        break;
      case "section": {
        const fields = block.fields;
        const fieldsOk =
          fields === undefined ||
          (Array.isArray(fields) &&
            fields.length > 0 &&
            fields.length <= 10 &&
            fields.every((field) => textObject(field, undefined, 2000)));
        if (!fieldsOk || (block.text === undefined && fields === undefined)) return "invalid_blocks";
        if (block.text !== undefined && !textObject(block.text)) return "invalid_blocks";
        break;
      }
      case "context":
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10)
          return "invalid_blocks";
        if (!(block.elements as unknown[]).every((element) => textObject(element))) return "invalid_blocks";
        break;
      case "divider":
        break;
      default:
        return "invalid_blocks";
    }
  }
  return null;
}

/** PagerDuty Events API v2 validation: null when the event would be accepted. */
export function pagerDutyProblem(body: unknown): string | null {
  if (!isRecord(body)) return "Event object is invalid";
  // PagerDuty integration keys are 32 characters.
  if (typeof body.routing_key !== "string" || body.routing_key.length !== 32) return "'routing_key' is invalid";
  if (!["trigger", "acknowledge", "resolve"].includes(String(body.event_action))) return "'event_action' is invalid";
  if (body.dedup_key !== undefined && (typeof body.dedup_key !== "string" || body.dedup_key.length > 255))
    return "'dedup_key' is invalid";
  if (body.event_action !== "trigger") return typeof body.dedup_key === "string" ? null : "'dedup_key' is missing";
  const payload = body.payload;
  if (!isRecord(payload)) return "'payload' is missing";
  if (typeof payload.summary !== "string" || payload.summary.length === 0 || payload.summary.length > 1024)
    return "'payload.summary' is missing or too long";
  if (typeof payload.source !== "string" || payload.source.length === 0) return "'payload.source' is missing";
  if (!["critical", "error", "warning", "info"].includes(String(payload.severity)))
    return "'payload.severity' is invalid";
  return null;
}

/** Checks `t=<unix>,v1=<hex>` against HMAC-SHA256(secret, "<t>.<body>") and the timestamp's age. */
export function verifySignature(
  header: string | undefined,
  rawBody: string,
  secret: string,
  toleranceSeconds: number,
  nowMs = Date.now(),
): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(",").map((part) => part.split("=", 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? "", "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

export async function startNotifySandbox(options: NotifySandboxOptions = {}): Promise<NotifySandbox> {
  const secret = options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET;
  const tolerance = options.webhookToleranceSeconds ?? 300;
  const received: ReceivedNotification[] = [];
  let failuresLeft = 0;

  const send = (response: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    response.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" });
    response.end(text);
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://sandbox");
    const path = url.pathname;
    if (path === "/_sandbox/health") return send(response, 200, { status: "ok" });
    if (path === "/_sandbox/received") {
      if (request.method === "DELETE") {
        received.length = 0;
        return send(response, 200, { cleared: true });
      }
      const kind = url.searchParams.get("kind");
      return send(response, 200, kind ? received.filter((entry) => entry.kind === kind) : received);
    }
    if (path === "/_sandbox/mode" && request.method === "POST") {
      const body = parseJson(await readBody(request));
      const mode = isRecord(body) ? body.mode : undefined;
      if (mode !== "ok" && mode !== "fail") return send(response, 400, { error: "mode must be ok|fail" });
      const count = isRecord(body) && typeof body.count === "number" ? body.count : Number.POSITIVE_INFINITY;
      failuresLeft = mode === "fail" ? count : 0;
      return send(response, 200, { mode, failuresLeft: Number.isFinite(failuresLeft) ? failuresLeft : "all" });
    }
    const kind: ReceiverKind | null = path.startsWith("/slack/")
      ? "slack"
      : path === "/v2/enqueue"
        ? "pagerduty"
        : path.startsWith("/webhook/")
          ? "webhook"
          : null;
    if (!kind || request.method !== "POST") return send(response, 404, { error: "not found" });
    const rawBody = await readBody(request);
    const body = parseJson(rawBody);
    const record: ReceivedNotification = {
      seq: received.length + 1,
      receivedAt: new Date().toISOString(),
      kind,
      path,
      headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
      rawBody,
      body,
      status: 200,
    };
    const answer = (status: number, reply: unknown, problem?: string) => {
      record.status = status;
      if (problem) record.problem = problem;
      received.push(record);
      send(response, status, reply);
    };
    if (failuresLeft > 0) {
      failuresLeft--;
      return answer(500, kind === "slack" ? "internal_error" : { error: "sandbox told to fail" }, "told to fail");
    }
    if (kind === "slack") {
      const problem = slackProblem(body);
      return problem ? answer(400, problem, problem) : answer(200, "ok");
    }
    if (kind === "pagerduty") {
      const problem = pagerDutyProblem(body);
      if (problem)
        return answer(400, { status: "invalid event", message: "Event object is invalid", errors: [problem] }, problem);
      const event = body as { dedup_key?: string };
      const dedupKey = event.dedup_key ?? `sandbox-${record.seq}`;
      return answer(202, { status: "success", message: "Event processed", dedup_key: dedupKey });
    }
    record.signatureValid = verifySignature(
      request.headers["x-steward-signature"] as string | undefined,
      rawBody,
      secret,
      tolerance,
    );
    if (!record.signatureValid) return answer(401, { error: "invalid signature" }, "invalid signature");
    if (body === undefined) return answer(400, { error: "invalid JSON" }, "invalid JSON");
    return answer(200, { received: true });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 400, { error: "bad request" });
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    received: (kind) => (kind ? received.filter((entry) => entry.kind === kind) : [...received]),
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`notify sandbox: condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return [...received];
    },
    fail(count = Number.POSITIVE_INFINITY) {
      failuresLeft = count;
    },
    ok() {
      failuresLeft = 0;
    },
    clear() {
      received.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
