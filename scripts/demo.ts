// `npm run demo`: the whole product on this machine with seeded demo data.
// Starts what is missing (PostgreSQL, Redis), migrates, seeds, builds the dashboard, then runs
// the sandbox services, the API (serving the dashboard) and the worker until Ctrl-C.
// Run through scripts/bootstrap.mjs (`npm run …`), which generates the Prisma client this imports
// in a process of its own first: on a fresh clone it does not exist yet.
import { join } from "node:path";
import { createPrismaClient } from "@steward/db/client";
import {
  DEMO_OPERATORS,
  DEMO_PASSWORD,
  mirrorPaymentsToStripeSandbox,
  seed,
  seedMissedChargeInStripeSandbox,
} from "./seed/demo.ts";
import { seedDemoChannels } from "./seed/channels.ts";
import { seedCipher } from "./lib/secrets.ts";
import { DEFAULT_WEBHOOK_SECRET } from "../sandbox/src/notify/server.ts";
import { createDatabaseIfMissing, migrate } from "./lib/database.ts";
import { repoRoot, run, type Service, startService, step, stopServices, waitForHttp } from "./lib/run.ts";
import { ensurePostgres, ensureRedis } from "./lib/services.ts";

const env = {
  DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward",
  REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
  REDIS_PREFIX: process.env.REDIS_PREFIX ?? "steward",
  API_PORT: process.env.API_PORT ?? "4000",
  STRIPE_SANDBOX_PORT: process.env.STRIPE_SANDBOX_PORT ?? "12111",
  AI_SANDBOX_PORT: process.env.AI_SANDBOX_PORT ?? "12112",
};
// The demo scores reviews with the sandbox AI provider (tell it to go down to see the fallback).
const scoring = { AI_MODE: "provider", AI_PROVIDER_URL: `http://127.0.0.1:${env.AI_SANDBOX_PORT}` };
// Payments and email: the API and worker use the Stripe and SMTP sandboxes started below.
const smtpSandbox = {
  SMTP_SANDBOX_PORT: process.env.SMTP_SANDBOX_PORT ?? "2525",
  SMTP_SANDBOX_HTTP_PORT: process.env.SMTP_SANDBOX_HTTP_PORT ?? "12113",
};
// Alert notifications (Slack, PagerDuty, ticket webhook) go to the notify sandbox.
const notifySandboxPort = process.env.NOTIFY_SANDBOX_PORT ?? "12114";
const notifySandboxUrl = `http://127.0.0.1:${notifySandboxPort}`;
const payments = { STRIPE_API_PORT: env.STRIPE_SANDBOX_PORT, SMTP_PORT: smtpSandbox.SMTP_SANDBOX_PORT };
const services: Service[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    step("Stopping everything the demo started…");
    await stopServices([...services].reverse());
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  step("Checking PostgreSQL and Redis");
  services.push(...(await ensurePostgres(env.DATABASE_URL)), ...(await ensureRedis(env.REDIS_URL)));

  step("Applying migrations");
  await createDatabaseIfMissing(env.DATABASE_URL);
  migrate(env.DATABASE_URL);

  step("Seeding demo data");
  const db = createPrismaClient(env.DATABASE_URL, 2);
  const seeded = await seed(db);
  // One channel of each kind, pointing at the notify sandbox started below.
  await seedDemoChannels(db, seedCipher(), { notifyUrl: notifySandboxUrl, webhookSecret: DEFAULT_WEBHOOK_SECRET });
  await db.$disconnect();
  if (!seeded.seeded) step("Database already has data; keeping it");

  step("Building the dashboard");
  run("npm", ["run", "build", "-w", "web"], { quiet: true });

  const apiUrl = `http://127.0.0.1:${env.API_PORT}`;
  services.push(
    startService("stripe", "npx", ["tsx", "sandbox/src/stripe/main.ts"], {
      STRIPE_SANDBOX_PORT: env.STRIPE_SANDBOX_PORT,
      STRIPE_WEBHOOK_URL: `${apiUrl}/webhooks/stripe`,
    }),
    startService("ai", "npx", ["tsx", "sandbox/src/ai/main.ts"], { AI_SANDBOX_PORT: env.AI_SANDBOX_PORT }),
    startService("smtp", "npx", ["tsx", "sandbox/src/smtp/main.ts"], smtpSandbox),
    startService("notify", "npx", ["tsx", "sandbox/src/notify/main.ts"], { NOTIFY_SANDBOX_PORT: notifySandboxPort }),
    startService("api", "npx", ["tsx", "api/src/main.ts"], {
      ...env,
      ...payments,
      WEB_DIST_DIR: join(repoRoot, "web", "build"),
      PUBLIC_URL: apiUrl,
      LOG_LEVEL: "warn",
    }),
    startService("worker", "npx", ["tsx", "worker/src/main.ts"], {
      ...env,
      ...scoring,
      ...payments,
      LOG_LEVEL: "warn",
    }),
  );
  await waitForHttp(`${apiUrl}/readyz`);
  // The sandbox keeps charges in memory: give it the charges behind the seeded payments.
  const stripeSandboxUrl = `http://127.0.0.1:${env.STRIPE_SANDBOX_PORT}`;
  await waitForHttp(`${stripeSandboxUrl}/_sandbox/health`);
  const paymentsDb = createPrismaClient(env.DATABASE_URL, 2);
  // A fresh sandbox also gets one charge whose webhook "never arrived", for the Reconciliation page.
  if ((await mirrorPaymentsToStripeSandbox(paymentsDb, stripeSandboxUrl)) > 0)
    await seedMissedChargeInStripeSandbox(paymentsDb, stripeSandboxUrl);
  await paymentsDb.$disconnect();

  console.log(`
  ┌──────────────────────────────────────────────────────────────┐
    Steward is running.

    Dashboard:  ${apiUrl}
    GraphQL:    ${apiUrl}/graphql
    Emails:     http://127.0.0.1:${smtpSandbox.SMTP_SANDBOX_HTTP_PORT}/messages (SMTP sandbox)
    Alerts out: ${notifySandboxUrl}/_sandbox/received (Slack, PagerDuty, ticket webhook)
    Sign in:    ${DEMO_OPERATORS[1].email}  /  ${DEMO_PASSWORD}
                (also ${DEMO_OPERATORS[0].email} as ADMIN, ${DEMO_OPERATORS[2].email} as VIEWER)

    Press Ctrl-C to stop everything this command started.
  └──────────────────────────────────────────────────────────────┘
`);
  for (const service of services) {
    service.child.once("exit", (code) => {
      if (stopping) return;
      console.error(`[${service.name}] exited unexpectedly (code ${code}); stopping the demo.`);
      void shutdown(1);
    });
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await shutdown(1);
}
