// POST /webhooks/stripe: verify, store once, enqueue, answer. It reads the RAW body (the signature
// covers the exact bytes Stripe sent) and does nothing slow: the stripe-event job does the work.
//   over the per-address rate      → 429 with Retry-After (Stripe retries)
//   body over 512 KiB              → 413, answered before the connection closes
//   bad, forged or stale signature → 400 (also dated more than the tolerance ahead); counted in
//                                    Redis and steward_stripe_webhook_rejected_total, the first
//                                    of each 5-minute window audited as stripe.webhook_rejected
//   new event                      → 200, stored, job `stripe-event-<eventId>` queued
//   duplicate                      → 200, ignored (queued again only if never processed)
//   database or Redis down         → 500, so Stripe retries later
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import { acceptStripeWebhook } from "@steward/core/payments";
import type { PaymentsGateway } from "@steward/core/ports/payments";
import { stripeSettings } from "@steward/core/stripe";
import type { CoreDeps } from "@steward/core/deps";
import type { JobQueue } from "@steward/jobs/queue";
import type { Redis } from "ioredis";
import { countDelivery, type RejectionKind } from "@steward/core/webhookDeliveries";

export const MAX_BODY_BYTES = 512 * 1024;
/**
 * An oversized body is read and thrown away up to this much, so the client (still sending) reads
 * its 413 instead of a reset; a bigger one is cut off after the answer.
 */
const DRAIN_BYTES = 16 * 1024 * 1024;

export interface StripeWebhookDeps {
  /** The database, Prisma and hand-written statements (the event's INSERT). */
  store: Pick<CoreDeps, "db" | "sql">;
  env: Env;
  jobs: JobQueue;
  /** Verifies signatures (the SDK's check, through the port). */
  payments: PaymentsGateway;
  logger: Logger;
  redis: Redis;
  /** Seconds to wait, or null: the per-address budget of this endpoint. */
  limitAddress(address: string): Promise<number | null>;
  clientAddress(req: IncomingMessage): string;
  rejected(reason: RejectionKind): void;
}

/** The body, or null when it is over the limit (the caller answers 413; the rest is drained). */
function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    if (tooLarge) resolve(null);
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (!tooLarge && size > limit) {
        tooLarge = true;
        chunks.length = 0;
        resolve(null);
      }
      if (tooLarge) {
        if (size > DRAIN_BYTES) req.socket.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export function createStripeWebhookHandler(
  deps: StripeWebhookDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { store, env, jobs, logger, redis, payments } = deps;
  const counter = { redis, prefix: env.REDIS_PREFIX };
  const refuse = (kind: RejectionKind) => {
    deps.rejected(kind);
    void countDelivery(redis, env.REDIS_PREFIX, kind).catch(() => undefined);
  };
  const secret = stripeSettings(env).webhookSecret;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return reply(res, 405, { error: "Use POST" });
    }
    const wait = await deps.limitAddress(deps.clientAddress(req));
    if (wait !== null) {
      refuse("rate_limited");
      req.resume();
      res.setHeader("retry-after", String(wait));
      return reply(res, 429, { error: `Too many requests; retry in ${wait} s` });
    }
    const rawBody = await readRawBody(req, MAX_BODY_BYTES);
    if (rawBody === null) {
      refuse("too_large");
      res.setHeader("connection", "close");
      return reply(res, 413, { error: `Body larger than ${MAX_BODY_BYTES} bytes` });
    }
    const header = req.headers["stripe-signature"];
    const signature = Array.isArray(header) ? (header[0] ?? null) : (header ?? null);
    // Stored, then its stripe-event job queued (core decides; a failure to queue is the 500 below).
    const receipt = await acceptStripeWebhook(
      { ...store, jobs, stripe: payments },
      { rawBody, signature, secret },
      counter,
    );
    if (receipt.kind === "rejected") {
      deps.rejected(receipt.rejection);
      logger.warn({ reason: receipt.reason }, "stripe webhook rejected");
      return reply(res, 400, { error: `Webhook signature verification failed: ${receipt.reason}` });
    }
    return reply(res, 200, { received: true, ...(receipt.kind === "duplicate" ? { duplicate: true } : {}) });
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, "stripe webhook could not be stored");
      if (!res.headersSent) reply(res, 500, { error: "Could not store the event; retry later." });
    });
  };
}
