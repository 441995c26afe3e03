// POST /webhooks/stripe: verify, store once, enqueue, answer. It reads the RAW body (the signature
// covers the exact bytes Stripe sent) and does nothing slow: the stripe-event job does the work.
//   bad, forged or stale signature → 400 (recorded in the audit log as stripe.webhook_rejected)
//   new event                      → 200, stored, job `stripe-event-<eventId>` queued
//   duplicate                      → 200, ignored (queued again only if never processed)
//   database or Redis down         → 500, so Stripe retries later
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Env } from "@steward/core/env";
import type { Logger } from "@steward/core/logger";
import { receiveStripeWebhook } from "@steward/core/payments";
import { stripeClientFor, stripeSettings } from "@steward/core/stripe";
import type { Db } from "@steward/db/client";
import { type JobData, stripeEventJobFor } from "@steward/worker/queue";
import type { Queue } from "bullmq";

const MAX_BODY_BYTES = 512 * 1024;

export interface StripeWebhookDeps {
  db: Db;
  env: Env;
  jobs: Queue<JobData>;
  logger: Logger;
}

class BodyTooLarge extends Error {}

function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge(`body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
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
  const { db, env, jobs, logger } = deps;
  const stripe = stripeClientFor(env);
  const secret = stripeSettings(env).webhookSecret;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return reply(res, 405, { error: "Use POST" });
    }
    let rawBody: Buffer;
    try {
      rawBody = await readRawBody(req, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) return reply(res, 413, { error: error.message });
      throw error;
    }
    const header = req.headers["stripe-signature"];
    const signature = Array.isArray(header) ? (header[0] ?? null) : (header ?? null);
    const receipt = await receiveStripeWebhook(db, stripe, { rawBody, signature, secret });
    if (receipt.kind === "rejected") {
      logger.warn({ reason: receipt.reason }, "stripe webhook rejected");
      return reply(res, 400, { error: `Webhook signature verification failed: ${receipt.reason}` });
    }
    if (receipt.kind === "duplicate" && receipt.processed) {
      return reply(res, 200, { received: true, duplicate: true });
    }
    // Deterministic job id: a redelivery while the job is queued or done adds nothing.
    const job = stripeEventJobFor(receipt.eventId);
    await jobs.add(job.name, job.data, job.opts);
    return reply(res, 200, { received: true, ...(receipt.kind === "duplicate" ? { duplicate: true } : {}) });
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, "stripe webhook could not be stored");
      if (!res.headersSent) reply(res, 500, { error: "Could not store the event; retry later." });
    });
  };
}
