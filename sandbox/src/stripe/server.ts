/**
 * A Stripe-compatible HTTP server (node:http only) for dev, demo and tests. The real
 * `stripe` SDK talks to it when configured with
 *   new Stripe(apiKey, { host: '127.0.0.1', port, protocol: 'http' })
 * /v1/... behaves like Stripe (auth, rate limit, idempotency, errors, pagination);
 * /_sandbox/... are control endpoints for faults, seeding and inspection (see control.ts).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleApi } from "./api.ts";
import { handleControl } from "./control.ts";
import { ApiError } from "./errors.ts";
import { FaultController, RateLimiter } from "./faults.ts";
import { canonicalParams, parseForm } from "./forms.ts";
import { IdempotencyStore } from "./idempotency.ts";
import { StripeStore, newId } from "./store.ts";
import type { Charge, ChargeInput, Refund, RefundInput } from "./store.ts";
import { WebhookDispatcher } from "./webhooks.ts";
import type { WebhookRetryOptions } from "./webhooks.ts";

export const DEFAULT_API_KEY = "sk_test_steward_sandbox";
export const DEFAULT_WEBHOOK_SECRET = "whsec_steward_sandbox";
/** The version stripe@23 pins; echoed when a client sends no Stripe-Version. */
export const SANDBOX_API_VERSION = "2026-10-28.endive";
export const DEFAULT_RATE_LIMIT_PER_SECOND = 25;

const API_BODY_LIMIT = 1024 * 1024;
// Seeding 100k+ charges in one call needs a large control body.
const CONTROL_BODY_LIMIT = 256 * 1024 * 1024;

export interface StripeSandboxOptions {
  /** 0 or omitted: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The only accepted secret key. Default `sk_test_steward_sandbox`. */
  apiKey?: string;
  /** Where events are POSTed; none = no delivery (can be set later via configureWebhooks). */
  webhookUrl?: string;
  /** Default `whsec_steward_sandbox`. */
  webhookSecret?: string;
  /** Webhook retry timing; defaults: 200 ms base, doubling, 5 attempts, 10 s timeout. */
  webhookRetry?: Partial<WebhookRetryOptions>;
  /** Requests per second per API key before 429; `false` disables. Default 25 (test mode). */
  rateLimitPerSecond?: number | false;
  /** How long idempotency keys are remembered. Default 24 h. */
  idempotencyTtlMs?: number;
  /** How many /v1 requests the request log keeps. Default 10,000. */
  requestLogLimit?: number;
}

export interface RequestLogEntry {
  requestId: string;
  /** Unix ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  /** The raw query string, `?` included, or ''. */
  query: string;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  /** 0 while the request is still being answered. */
  status: number;
  replayed: boolean;
  fault: "error500" | "rateLimit429" | "timeout" | null;
  durationMs: number;
}

export interface StripeSandbox {
  /** e.g. http://127.0.0.1:12111 */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly apiKey: string;
  /** Programmatic fault controls (same as POST /_sandbox/faults). */
  readonly faults: FaultController;
  /** The in-memory charges, refunds and events. */
  readonly state: StripeStore;
  readonly webhooks: WebhookDispatcher;
  readonly rateLimiter: RateLimiter;
  /** The /v1 request log, oldest first. */
  requests(): readonly RequestLogEntry[];
  clearRequests(): void;
  /** Creates a charge directly (events and webhooks included), bypassing HTTP. */
  createCharge(input: ChargeInput): Charge;
  /** Refunds directly, with the same rules as POST /v1/refunds. */
  createRefund(input: RefundInput): Refund;
  /** Bulk insert with chosen `created` timestamps; no events unless asked. */
  seedCharges(inputs: readonly ChargeInput[], options?: { emitEvents?: boolean }): Charge[];
  /** Delivers an existing event again; false when unknown or no webhook URL. */
  resendEvent(eventId: string): boolean;
  /** Resolves when every webhook delivery (retries and held events included) is done. */
  waitForWebhooks(): Promise<void>;
  configureWebhooks(options: { url?: string | null; secret?: string; retry?: Partial<WebhookRetryOptions> }): void;
  setRateLimit(perSecond: number | false): void;
  /** Empties state, idempotency keys, faults, the request log and webhook faults. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startStripeSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  const host = options.host ?? "127.0.0.1";
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const requestLogLimit = options.requestLogLimit ?? 10_000;

  const webhooks = new WebhookDispatcher({
    url: options.webhookUrl,
    secret: options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET,
    retry: options.webhookRetry,
  });
  const store = new StripeStore({
    apiVersion: SANDBOX_API_VERSION,
    pendingWebhooks: () => (webhooks.endpointUrl === null ? 0 : 1),
  });
  store.onEvent((event) => webhooks.dispatch(event));
  const faults = new FaultController();
  const rateLimiter = new RateLimiter(options.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT_PER_SECOND);
  const idempotency = new IdempotencyStore(options.idempotencyTtlMs);
  let requestLog: RequestLogEntry[] = [];

  // Pauses (slowMs, timeout faults) are woken on stop() so nothing outlives the server.
  const pauses = new Map<NodeJS.Timeout, () => void>();
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        pauses.delete(timer);
        resolve();
      }, ms);
      pauses.set(timer, resolve);
    });

  const logRequest = (entry: RequestLogEntry): void => {
    requestLog.push(entry);
    // Trim in batches so the log stays O(1) amortised per request.
    if (requestLog.length > requestLogLimit * 1.25) requestLog = requestLog.slice(-requestLogLimit);
  };

  async function handleV1(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const started = Date.now();
    const method = (req.method ?? "GET").toUpperCase();
    const path = url.pathname;
    const requestId = newId("req");
    const idempotencyKey = header(req, "idempotency-key");
    const stripeVersion = header(req, "stripe-version");
    const entry: RequestLogEntry = {
      requestId,
      at: started,
      method,
      path,
      query: url.search,
      idempotencyKey,
      stripeVersion,
      status: 0,
      replayed: false,
      fault: null,
      durationMs: 0,
    };
    logRequest(entry);
    const headers: Record<string, string> = {
      "Request-Id": requestId,
      "Stripe-Version": stripeVersion ?? SANDBOX_API_VERSION,
    };
    if (idempotencyKey !== null) headers["Idempotency-Key"] = idempotencyKey;

    let status: number;
    let body: string;
    let holdMs = 0;
    try {
      const text = await readBody(req, API_BODY_LIMIT);
      if (faults.slowMs > 0) await pause(faults.slowMs);
      const key = authenticate(req, apiKey);
      if (!rateLimiter.tryAcquire(key))
        throw rateLimited(
          `Request rate limit exceeded. You can make up to ${String(rateLimiter.limit)} requests per second in test mode.`,
        );
      // Injected faults come before idempotency, like an outage in front of Stripe's
      // API: nothing is executed or remembered, so a retry with the same key goes through.
      const fault = faults.take(method, path);
      if (fault !== null) {
        entry.fault = fault.mode;
        if (fault.mode === "error500") {
          throw new ApiError(
            500,
            {
              type: "api_error",
              message: "An unknown error occurred (injected by the Stripe sandbox).",
            },
            { replayable: false },
          );
        }
        if (fault.mode === "rateLimit429")
          throw rateLimited("Request rate limit exceeded (injected by the Stripe sandbox).");
        // 'timeout': the request is executed, then the answer is held back, so a client
        // that gives up and retries must rely on its idempotency key.
        holdMs = fault.delayMs;
      }
      const params = parseForm(method === "POST" ? text : url.search.slice(1));
      const ctx = { requestId, idempotencyKey };
      if (method === "POST" && idempotencyKey !== null) {
        const endpoint = `${method} ${path}`;
        const fingerprint = canonicalParams(params);
        const found = idempotency.lookup(key, idempotencyKey, endpoint, fingerprint);
        if (found.kind === "replay") {
          ({ status, body } = found.response);
          headers["Idempotent-Replayed"] = "true";
          headers["Original-Request"] = found.response.requestId;
          entry.replayed = true;
        } else {
          const result = execute(() => handleApi(store, { method, path, params, ctx }));
          ({ status, body } = result);
          if (result.replayable)
            idempotency.save(key, idempotencyKey, endpoint, fingerprint, {
              status,
              body,
              requestId,
            });
        }
      } else {
        ({ status, body } = execute(() => handleApi(store, { method, path, params, ctx })));
      }
    } catch (error) {
      ({ status, body } = errorResponse(error, headers));
    }
    if (holdMs > 0) await pause(holdMs);
    entry.status = status;
    entry.durationMs = Date.now() - started;
    send(res, status, body, headers);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sandbox.local");
    const work = url.pathname.startsWith("/_sandbox")
      ? readBody(req, CONTROL_BODY_LIMIT).then(async (text) => {
          const result = await handleControl(sandbox, (req.method ?? "GET").toUpperCase(), url, text);
          send(res, result.status, JSON.stringify(result.body, null, 2), {});
        })
      : handleV1(req, res, url);
    work.catch((error: unknown) => {
      const { status, body } = errorResponse(error, {});
      send(res, status, body, {});
    });
  });
  // Keep-alive sockets from SDK clients must not keep stop() waiting.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | null = null;

  const sandbox: StripeSandbox = {
    url: `http://${host}:${port}`,
    port,
    host,
    apiKey,
    faults,
    state: store,
    webhooks,
    rateLimiter,
    requests: () => requestLog,
    clearRequests: () => {
      requestLog = [];
    },
    createCharge: (input) => store.createCharge(input),
    createRefund: (input) => store.createRefund(input),
    seedCharges: (inputs, seedOptions) => store.seedCharges(inputs, seedOptions),
    resendEvent: (eventId) => {
      const event = store.getEvent(eventId);
      return event === undefined ? false : webhooks.resend(event);
    },
    waitForWebhooks: () => webhooks.idle(),
    configureWebhooks: (config) => webhooks.configure(config),
    setRateLimit: (perSecond) => rateLimiter.setLimit(perSecond),
    reset: () => {
      store.reset();
      idempotency.clear();
      faults.clear();
      rateLimiter.reset();
      webhooks.reset();
      requestLog = [];
    },
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        webhooks.stop();
        for (const [timer, wake] of pauses) {
          clearTimeout(timer);
          wake();
        }
        pauses.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
  return sandbox;
}

// ---------------------------------------------------------------------------------
// Helpers

function execute(run: () => unknown): {
  status: number;
  body: string;
  replayable: boolean;
} {
  try {
    return { status: 200, body: json(run()), replayable: true };
  } catch (error) {
    if (error instanceof ApiError)
      return {
        status: error.status,
        body: json({ error: error.body }),
        replayable: error.replayable,
      };
    throw error;
  }
}

function errorResponse(error: unknown, headers: Record<string, string>): { status: number; body: string } {
  if (error instanceof ApiError) {
    Object.assign(headers, error.headers);
    return { status: error.status, body: json({ error: error.body }) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: 500,
    body: json({
      error: {
        type: "api_error",
        message: `Stripe sandbox internal error: ${message}`,
      },
    }),
  };
}

function authenticate(req: http.IncomingMessage, expected: string): string {
  const authorization = header(req, "authorization");
  let key: string | null = null;
  if (authorization?.startsWith("Bearer ")) key = authorization.slice("Bearer ".length).trim();
  else if (authorization?.startsWith("Basic ")) {
    // curl -u sk_test_...: sends "key:" in Basic auth.
    key = Buffer.from(authorization.slice("Basic ".length), "base64").toString("utf8").split(":")[0] ?? null;
  }
  // Stripe answers 401 with type invalid_request_error; the SDK maps 401 to StripeAuthenticationError.
  if (key === null || key === "") {
    throw new ApiError(
      401,
      {
        type: "invalid_request_error",
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      },
      { replayable: false },
    );
  }
  if (key !== expected) {
    throw new ApiError(
      401,
      {
        type: "invalid_request_error",
        code: "api_key_invalid",
        message: `Invalid API Key provided: ${maskKey(key)}`,
      },
      { replayable: false },
    );
  }
  return key;
}

function rateLimited(message: string): ApiError {
  // Stripe's 429 body: type invalid_request_error, code rate_limit; the SDK maps 429 to StripeRateLimitError.
  return new ApiError(
    429,
    { type: "invalid_request_error", code: "rate_limit", message },
    { replayable: false, headers: { "Retry-After": "1" } },
  );
}

function maskKey(key: string): string {
  return key.length <= 12 ? "*".repeat(key.length) : `${key.slice(0, 8)}${"*".repeat(key.length - 12)}${key.slice(-4)}`;
}

function header(req: http.IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > limit) {
        reject(
          new ApiError(
            413,
            {
              type: "invalid_request_error",
              message: `Request body larger than ${limit} bytes.`,
            },
            { replayable: false },
          ),
        );
      } else {
        resolve(Buffer.concat(chunks).toString("utf8"));
      }
    });
    req.on("error", reject);
  });
}
