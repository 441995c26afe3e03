// A whole payments stack for one test file: the Stripe sandbox and the SMTP sandbox on free
// ports, the real API pointed at them by configuration (the same code path as production), and,
// when asked, a real worker. Plus the few fixtures payments tests share.
import { createApiToken } from "@steward/core/apiTokens";
import { createLogger } from "@steward/core/logger";
import type { Db, Payment } from "@steward/db/client";
import { createBullJobQueues } from "@steward/jobs/bullmq";
import Stripe from "stripe";
import { createPaidPlacement as paidPlacement } from "../../bench/drills/fixtures.ts";
import { startSmtpSandbox, type SmtpSandbox } from "../../sandbox/src/smtp/server.ts";
import { startStripeSandbox, type StripeSandbox } from "../../sandbox/src/stripe/server.ts";
import { jobCatalog } from "../../worker/src/registry.ts";
import { buildWorker, type StewardWorker } from "../../worker/src/worker.ts";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

export const WEBHOOK_SECRET = "whsec_payments_integration";
export const HOUR = 3_600_000;

export interface PaymentsStack {
  api: TestApi;
  db: Db;
  stripeSandbox: StripeSandbox;
  smtp: SmtpSandbox;
  worker: StewardWorker | null;
  /** An SDK client for the test itself (to look at Stripe's side). */
  stripe: Stripe;
  operatorCookie: string;
  secondOperatorCookie: string;
  viewerCookie: string;
  refundsToken: string;
  readToken: string;
  stop(): Promise<void>;
}

export async function startPaymentsStack(
  options: { worker?: boolean; webhooks?: boolean; env?: Record<string, string> } = {},
): Promise<PaymentsStack> {
  const stripeSandbox = await startStripeSandbox({
    port: 0,
    rateLimitPerSecond: false,
    webhookSecret: WEBHOOK_SECRET,
    webhookRetry: { baseDelayMs: 100, maxAttempts: 4, timeoutMs: 5_000 },
  });
  const smtp = await startSmtpSandbox({ port: 0 });
  const api = await startTestApi({
    STRIPE_API_HOST: stripeSandbox.host,
    STRIPE_API_PORT: String(stripeSandbox.port),
    STRIPE_API_PROTOCOL: "http",
    STRIPE_API_KEY: stripeSandbox.apiKey,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SMTP_HOST: smtp.host,
    SMTP_PORT: String(smtp.port),
    ...options.env,
  });
  if (options.webhooks) stripeSandbox.configureWebhooks({ url: `${api.url}/webhooks/stripe` });
  const db = api.database.db;
  const admin = await createOperator(db, "ADMIN", "admin@test.example");
  await createOperator(db, "OPERATOR", "olive@test.example");
  await createOperator(db, "OPERATOR", "otto@test.example");
  await createOperator(db, "VIEWER", "vic@test.example");
  const adminActor = {
    kind: "OPERATOR" as const,
    id: admin.id,
    email: admin.email,
    name: admin.name,
    role: admin.role,
  };
  const refundsToken = (await createApiToken({ db }, adminActor, { name: "marketplace", scopes: ["refunds:write"] }))
    .token;
  const readToken = (await createApiToken({ db }, adminActor, { name: "reader", scopes: ["read"] })).token;
  const worker = options.worker
    ? buildWorker(api.env, createLogger("worker-test", "silent"), jobCatalog(api.env))
    : null;
  await worker?.start();
  return {
    api,
    db,
    stripeSandbox,
    smtp,
    worker,
    stripe: new Stripe(stripeSandbox.apiKey, {
      host: stripeSandbox.host,
      port: stripeSandbox.port,
      protocol: "http",
      maxNetworkRetries: 0,
    }),
    operatorCookie: await api.loginCookie("olive@test.example", TEST_PASSWORD),
    secondOperatorCookie: await api.loginCookie("otto@test.example", TEST_PASSWORD),
    viewerCookie: await api.loginCookie("vic@test.example", TEST_PASSWORD),
    refundsToken,
    readToken,
    async stop() {
      await worker?.stop();
      // Leave nothing of this stack's queue behind in the shared Redis.
      const queue = createBullJobQueues({ redisUrl: api.env.REDIS_URL, prefix: api.env.REDIS_PREFIX });
      await queue.obliterate();
      await queue.close();
      await api.stop();
      await stripeSandbox.stop();
      await smtp.stop();
    },
  };
}

export const globalId = (type: string, id: string): string => Buffer.from(`${type}:${id}`).toString("base64");
export const localId = (global: string): string => Buffer.from(global, "base64").toString().split(":")[1] ?? "";

let counter = 0;

export async function createRegion(db: Db, slots = 5): Promise<{ id: string; slug: string }> {
  counter++;
  return db.region.create({
    data: { slug: `region-${counter}-${Date.now()}`, name: `Region ${counter}`, featuredSlots: slots },
  });
}

export async function createBusiness(
  db: Db,
  regionId: string,
  name?: string,
): Promise<{ id: string; email: string; name: string }> {
  counter++;
  return db.business.create({
    data: { regionId, name: name ?? `Trainer ${counter}`, email: `trainer${counter}@example.com` },
  });
}

/**
 * A paid featured placement as the webhook path would have recorded it: a charge at the Stripe
 * sandbox and the matching payment + placement in our database.
 */
export function createPaidPlacement(
  stack: Pick<PaymentsStack, "db" | "stripeSandbox">,
  business: { id: string },
  purchasedAt: Date,
  options: { amount?: number; currency?: string; status?: "SUCCEEDED" | "FAILED" } = {},
): Promise<Payment> {
  return paidPlacement(stack.db, stack.stripeSandbox, business, purchasedAt, options);
}

/** POST /v1/refunds requests the sandbox received for a charge, and the refunds it holds for it. */
export function stripeRefundsFor(sandbox: StripeSandbox, chargeId: string) {
  return sandbox.state.refunds.values().filter((refund) => refund.charge === chargeId);
}

export function refundPosts(sandbox: StripeSandbox) {
  return sandbox.requests().filter((request) => request.method === "POST" && request.path === "/v1/refunds");
}
