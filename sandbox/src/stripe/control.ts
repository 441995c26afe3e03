/**
 * /_sandbox/... control endpoints (JSON in, JSON out, no auth: the sandbox only listens
 * on localhost). They let the demo, e2e tests and drills drive the sandbox from outside
 * the process: faults, seeding, request log, webhook switches.
 */
import type { FaultInput, FaultMode } from "./faults.ts";
import type { StripeSandbox } from "./server.ts";
import type { ChargeInput, ChargeStatus } from "./store.ts";
import type { WebhookFaultInput, WebhookRetryOptions } from "./webhooks.ts";

export interface ControlResult {
  status: number;
  body: unknown;
}

/** A 4xx from a control endpoint. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

export async function handleControl(
  sandbox: StripeSandbox,
  method: string,
  url: URL,
  text: string,
): Promise<ControlResult> {
  const path = url.pathname.replace(/\/+$/, "");
  try {
    const input = text.trim() === "" ? {} : object(parseJson(text), "body");
    return await route(sandbox, method, path, url.searchParams, input);
  } catch (error) {
    const status = error instanceof ControlError ? error.status : 400;
    const message = error instanceof Error ? error.message : String(error);
    return {
      status,
      body: { error: { type: "invalid_request_error", message } },
    };
  }
}

async function route(
  sandbox: StripeSandbox,
  method: string,
  path: string,
  query: URLSearchParams,
  input: Json,
): Promise<ControlResult> {
  const ok = (body: unknown): ControlResult => ({ status: 200, body });
  const key = `${method} ${path}`;
  switch (key) {
    case "GET /_sandbox":
    case "GET /_sandbox/health":
    case "GET /_sandbox/state":
      return ok({
        ok: true,
        url: sandbox.url,
        ...sandbox.state.stats(),
        rateLimitPerSecond: sandbox.rateLimiter.limit,
        webhookUrl: sandbox.webhooks.endpointUrl,
        faults: sandbox.faults.snapshot(),
        webhookFaults: sandbox.webhooks.getFaults(),
      });

    case "POST /_sandbox/reset":
      sandbox.reset();
      return ok({ ok: true });

    case "GET /_sandbox/faults":
      return ok(sandbox.faults.snapshot());
    case "POST /_sandbox/faults":
      return ok(sandbox.faults.set(faultInput(input)));
    case "DELETE /_sandbox/faults":
      sandbox.faults.clear();
      return ok(sandbox.faults.snapshot());

    case "POST /_sandbox/config":
      applyConfig(sandbox, input);
      return ok({
        rateLimitPerSecond: sandbox.rateLimiter.limit,
        webhookUrl: sandbox.webhooks.endpointUrl,
      });

    case "GET /_sandbox/requests": {
      const limit = Number(query.get("limit") ?? "1000");
      const pathFilter = query.get("path");
      const methodFilter = query.get("method")?.toUpperCase();
      const keyFilter = query.get("idempotencyKey");
      const matching = sandbox
        .requests()
        .filter(
          (r) =>
            (pathFilter === null || r.path.startsWith(pathFilter)) &&
            (methodFilter === undefined || r.method === methodFilter) &&
            (keyFilter === null || r.idempotencyKey === keyFilter),
        );
      return ok({
        count: matching.length,
        data: matching.slice(-Math.max(1, limit)),
      });
    }
    case "DELETE /_sandbox/requests":
      sandbox.clearRequests();
      return ok({ ok: true });

    case "POST /_sandbox/charges":
      return ok(seedCharges(sandbox, input));

    case "GET /_sandbox/webhooks":
      return ok({
        url: sandbox.webhooks.endpointUrl,
        faults: sandbox.webhooks.getFaults(),
        deliveries: sandbox.webhooks.deliveries(),
      });
    case "GET /_sandbox/webhooks/deliveries": {
      const eventId = query.get("eventId");
      return ok({
        data: sandbox.webhooks.deliveries().filter((d) => eventId === null || d.eventId === eventId),
      });
    }
    case "POST /_sandbox/webhooks/faults":
      return ok(sandbox.webhooks.setFaults(webhookFaultInput(input)));
    case "POST /_sandbox/webhooks/release":
      return ok({ released: sandbox.webhooks.releaseHeld() });
    case "POST /_sandbox/webhooks/wait": {
      // Lets an out-of-process test wait until deliveries (and retries) are finished.
      const timeoutMs = optInt(input, "timeoutMs") ?? 30_000;
      const idle = await Promise.race([
        sandbox.waitForWebhooks().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
      ]);
      return ok({ idle });
    }
  }

  const resend = /^\/_sandbox\/webhooks\/resend\/([^/]+)$/.exec(path);
  if (method === "POST" && resend) {
    const eventId = decodeURIComponent(resend[1] ?? "");
    if (sandbox.state.getEvent(eventId) === undefined) throw new ControlError(404, `No such event: '${eventId}'`);
    if (!sandbox.resendEvent(eventId)) throw new ControlError(409, "No webhook URL is configured.");
    return ok({ ok: true, eventId });
  }
  throw new ControlError(404, `Unknown sandbox control endpoint: ${method} ${path}`);
}

// ---------------------------------------------------------------------------------
// Payloads

function applyConfig(sandbox: StripeSandbox, input: Json): void {
  const rate = input["rateLimitPerSecond"];
  if (rate !== undefined) {
    if (rate !== false && typeof rate !== "number") throw new Error("rateLimitPerSecond must be a number or false");
    sandbox.setRateLimit(rate);
  }
  const webhookUrl = input["webhookUrl"];
  if (webhookUrl !== undefined && webhookUrl !== null && typeof webhookUrl !== "string")
    throw new Error("webhookUrl must be a string or null");
  if (typeof webhookUrl === "string") new URL(webhookUrl); // throws on a malformed URL
  const secret = optString(input, "webhookSecret");
  const retryInput = input["webhookRetry"];
  let retry: Partial<WebhookRetryOptions> | undefined;
  if (retryInput !== undefined) {
    const r = object(retryInput, "webhookRetry");
    retry = {};
    for (const field of ["baseDelayMs", "maxDelayMs", "maxAttempts", "timeoutMs"] as const) {
      const value = optInt(r, field);
      if (value !== undefined) retry[field] = value;
    }
  }
  sandbox.configureWebhooks({
    ...(webhookUrl === undefined ? {} : { url: webhookUrl }),
    ...(secret === undefined ? {} : { secret }),
    ...(retry === undefined ? {} : { retry }),
  });
}

const FAULT_MODES: readonly FaultMode[] = ["none", "error500", "rateLimit429", "timeout"];

function faultInput(input: Json): FaultInput {
  const mode = optString(input, "mode");
  if (mode !== undefined && !FAULT_MODES.some((m) => m === mode))
    throw new Error(`mode must be one of ${FAULT_MODES.join(", ")}`);
  const out: FaultInput = {};
  if (mode !== undefined) out.mode = mode as FaultMode;
  for (const field of ["count", "delayMs", "slowMs"] as const) {
    const value = optInt(input, field);
    if (value !== undefined) out[field] = value;
  }
  for (const field of ["paths", "methods"] as const) {
    const value = optStringArray(input, field);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

function webhookFaultInput(input: Json): WebhookFaultInput {
  const out: WebhookFaultInput = {};
  for (const field of ["duplicate", "outOfOrder", "drop", "holdMs"] as const) {
    const value = optInt(input, field);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

const CHARGE_STATUSES: readonly ChargeStatus[] = ["succeeded", "failed", "pending"];
const MAX_SEED = 2_000_000;

/**
 * Body: { charges?: [{ amount, currency?, created?, status?, metadata?, description?, customer?, id? }],
 *         generate?: { count, createdFrom, createdTo, amount?, currency?, status?, metadata?, description? },
 *         emitEvents?: boolean, returnIds?: boolean }
 * currency defaults to 'aud' (the marketplace's currency), amount to 2200 when generating.
 */
function seedCharges(sandbox: StripeSandbox, input: Json): unknown {
  const inputs: ChargeInput[] = [];
  const list = input["charges"];
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new Error("charges must be an array");
    list.forEach((item: unknown, i) => inputs.push(chargeInput(object(item, `charges[${i}]`), `charges[${i}]`)));
  }
  const generate = input["generate"];
  if (generate !== undefined) {
    const g = object(generate, "generate");
    const count = requireInt(g, "count");
    const from = requireInt(g, "createdFrom");
    const to = requireInt(g, "createdTo");
    if (count < 0 || inputs.length + count > MAX_SEED)
      throw new Error(`generate.count must be between 0 and ${MAX_SEED}`);
    if (to < from) throw new Error("generate.createdTo must be >= createdFrom");
    const template = chargeInput({ amount: 2200, ...g, created: from }, "generate");
    for (let i = 0; i < count; i += 1) {
      // Spread evenly over [createdFrom, createdTo].
      const created = count === 1 ? from : from + Math.floor((i * (to - from)) / (count - 1));
      inputs.push({ ...template, created });
    }
  }
  if (inputs.length > MAX_SEED) throw new Error(`at most ${MAX_SEED} charges per call`);
  const charges = sandbox.seedCharges(inputs, {
    emitEvents: optBool(input, "emitEvents") ?? false,
  });
  const returnIds = optBool(input, "returnIds") ?? true;
  return {
    count: charges.length,
    total: sandbox.state.charges.size,
    ...(returnIds ? { ids: charges.map((c) => c.id) } : {}),
  };
}

function chargeInput(o: Json, where: string): ChargeInput {
  const amount = requireInt(o, "amount", where);
  const status = optString(o, "status", where);
  if (status !== undefined && !CHARGE_STATUSES.some((s) => s === status)) {
    throw new Error(`${where}.status must be one of ${CHARGE_STATUSES.join(", ")}`);
  }
  const metadata = o["metadata"];
  let meta: Record<string, string> | undefined;
  if (metadata !== undefined) {
    meta = {};
    for (const [k, v] of Object.entries(object(metadata, `${where}.metadata`))) {
      if (typeof v !== "string") throw new Error(`${where}.metadata.${k} must be a string`);
      meta[k] = v;
    }
  }
  const currency = (optString(o, "currency", where) ?? "aud").toLowerCase();
  const created = optInt(o, "created", where);
  const description = optString(o, "description", where);
  const customer = optString(o, "customer", where);
  const id = optString(o, "id", where);
  if (id !== undefined && !id.startsWith("ch_")) throw new Error(`${where}.id must start with ch_`);
  if (amount < 0) throw new Error(`${where}.amount must be >= 0`);
  if (!/^[a-z]{3}$/.test(currency)) throw new Error(`${where}.currency must be a 3-letter ISO code`);
  return {
    amount,
    currency,
    ...(status === undefined ? {} : { status: status as ChargeStatus }),
    ...(created === undefined ? {} : { created }),
    ...(meta === undefined ? {} : { metadata: meta }),
    ...(description === undefined ? {} : { description }),
    ...(customer === undefined ? {} : { customer }),
    ...(id === undefined ? {} : { id }),
  };
}

// ---------------------------------------------------------------------------------
// JSON field readers

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error("body must be JSON");
  }
}

function object(value: unknown, where: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${where} must be a JSON object`);
  return value as Json;
}

function optInt(o: Json, field: string, where = "body"): number | undefined {
  const value = o[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new Error(`${where}.${field} must be an integer`);
  return value;
}

function requireInt(o: Json, field: string, where = "body"): number {
  const value = optInt(o, field, where);
  if (value === undefined) throw new Error(`${where}.${field} is required`);
  return value;
}

function optString(o: Json, field: string, where = "body"): string | undefined {
  const value = o[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new Error(`${where}.${field} must be a string`);
  return value;
}

function optBool(o: Json, field: string): boolean | undefined {
  const value = o[field];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw new Error(`${field} must be a boolean`);
  return value;
}

function optStringArray(o: Json, field: string): string[] | undefined {
  const value = o[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string"))
    throw new Error(`${field} must be an array of strings`);
  return value;
}
