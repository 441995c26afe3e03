// `npm test`: the whole suite. Unit and integration tests (Vitest, real PostgreSQL and Redis),
// then end-to-end tests in headless Chromium (Playwright) against the whole stack started here.
// Run through scripts/bootstrap.mjs (`npm run …`), which generates the Prisma client this imports
// in a process of its own first: on a fresh clone it does not exist yet.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createPrismaClient } from "@steward/db/client";
import { mirrorPaymentsToStripeSandbox, seed } from "./seed/demo.ts";
import { seedDemoChannels } from "./seed/channels.ts";
import { seedCipher } from "./lib/secrets.ts";
import { DEFAULT_WEBHOOK_SECRET } from "../sandbox/src/notify/server.ts";
import { dropDatabase, migrate, recreateDatabase } from "./lib/database.ts";
import { repoRoot, run, type Service, startService, step, stopServices, waitForHttp } from "./lib/run.ts";
import { ensurePostgres, ensureRedis, freePort } from "./lib/services.ts";

const baseDatabaseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
const only = process.argv[2]; // "unit" | "e2e" | undefined (both)
// Anything after the ring narrows it: `npm run test:unit -- tests/integration/alerts.test.ts`,
// `npm run test:e2e -- reconciliation` (file filters passed to Vitest / Playwright).
const filters = only ? process.argv.slice(3) : [];
const services: Service[] = [];

function chromiumPath(): string {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ];
  const found = candidates.find((path): path is string => Boolean(path && existsSync(path)));
  if (!found) {
    throw new Error(
      "No Chromium found for the end-to-end tests. Install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH.",
    );
  }
  return found;
}

async function endToEnd(): Promise<void> {
  const chromium = chromiumPath();
  const e2eDatabase = new URL(baseDatabaseUrl);
  // One database per run, so two runs on one machine (two checkouts) never share it.
  e2eDatabase.pathname = `/steward_e2e_${process.pid}`;
  const databaseUrl = e2eDatabase.toString();
  step("Preparing the end-to-end database");
  await recreateDatabase(databaseUrl);
  migrate(databaseUrl);
  // Alert notifications go to the notify sandbox started below (port chosen now, for the seed).
  const notifyPort = await freePort();
  const notifySandboxUrl = `http://127.0.0.1:${notifyPort}`;
  const db = createPrismaClient(databaseUrl, 2);
  await seed(db);
  await seedDemoChannels(db, seedCipher(), { notifyUrl: notifySandboxUrl, webhookSecret: DEFAULT_WEBHOOK_SECRET });
  await db.$disconnect();

  step("Building the dashboard");
  run("npm", ["run", "build", "-w", "web"], { quiet: true });

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `e2e-${process.pid}`,
    LOG_LEVEL: "warn",
    // Heartbeat every 2 seconds, so the live page visibly updates within a test's patience. The API
    // needs it too: it shows the schedule and restores it on resume.
    HEARTBEAT_CRON: "*/2 * * * * *",
  };
  // Payments and email: a Stripe sandbox (webhooks to this API) and an SMTP sandbox, on free ports.
  const stripePort = await freePort();
  const smtpPort = await freePort();
  const smtpHttpPort = await freePort();
  // The AI scoring sandbox too, so health checks probe a provider a test can take down.
  const aiPort = await freePort();
  const aiSandboxUrl = `http://127.0.0.1:${aiPort}`;
  const payments = {
    STRIPE_API_PORT: String(stripePort),
    SMTP_PORT: String(smtpPort),
    AI_PROVIDER_URL: aiSandboxUrl,
    AI_TIMEOUT_MS: "1000",
  };
  services.push(
    startService("stripe", "npx", ["tsx", "sandbox/src/stripe/main.ts"], {
      STRIPE_SANDBOX_PORT: String(stripePort),
      STRIPE_WEBHOOK_URL: `${baseUrl}/webhooks/stripe`,
      STRIPE_SANDBOX_RATE_LIMIT: "off",
    }),
    startService("smtp", "npx", ["tsx", "sandbox/src/smtp/main.ts"], {
      SMTP_SANDBOX_PORT: String(smtpPort),
      SMTP_SANDBOX_HTTP_PORT: String(smtpHttpPort),
    }),
    startService("ai", "npx", ["tsx", "sandbox/src/ai/main.ts"], { AI_SANDBOX_PORT: String(aiPort) }),
    startService("notify", "npx", ["tsx", "sandbox/src/notify/main.ts"], { NOTIFY_SANDBOX_PORT: String(notifyPort) }),
  );
  services.push(
    startService("api", "npx", ["tsx", "api/src/main.ts"], {
      ...env,
      ...payments,
      API_PORT: String(port),
      // The browser's origin (the live-update websocket is refused from any other); invitation and
      // password links in emails point here too.
      PUBLIC_URL: baseUrl,
      WEB_DIST_DIR: join(repoRoot, "web", "build"),
      // Every spec's browser and helpers call from 127.0.0.1; the limits have their own tests.
      RATE_LIMIT_PER_ADDRESS: "100000",
      WS_CONNECTS_PER_ADDRESS: "100000",
    }),
    startService("worker", "npx", ["tsx", "worker/src/main.ts"], { ...env, ...payments }),
  );
  await waitForHttp(`${baseUrl}/readyz`);
  const stripeSandboxUrl = `http://127.0.0.1:${stripePort}`;
  const smtpSandboxUrl = `http://127.0.0.1:${smtpHttpPort}`;
  await waitForHttp(`${stripeSandboxUrl}/_sandbox/health`);
  await waitForHttp(`${smtpSandboxUrl}/health`);
  await waitForHttp(`${aiSandboxUrl}/health`);
  await waitForHttp(`${notifySandboxUrl}/_sandbox/health`);
  const mirrorDb = createPrismaClient(databaseUrl, 2);
  await mirrorPaymentsToStripeSandbox(mirrorDb, stripeSandboxUrl);
  await mirrorDb.$disconnect();
  step(`Running end-to-end tests against ${baseUrl}`);
  run("npx", ["playwright", "test", ...filters], {
    env: {
      STEWARD_BASE_URL: baseUrl,
      DATABASE_URL: databaseUrl,
      CHROMIUM_PATH: chromium,
      STRIPE_SANDBOX_URL: stripeSandboxUrl,
      SMTP_SANDBOX_URL: smtpSandboxUrl,
      AI_SANDBOX_URL: aiSandboxUrl,
      NOTIFY_SANDBOX_URL: notifySandboxUrl,
      // Specs that raise alerts through core publish on the stack's bus.
      REDIS_URL: redisUrl,
      REDIS_PREFIX: env.REDIS_PREFIX,
    },
  });
  await stopServices(services.splice(0));
  await dropDatabase(databaseUrl);
}

let exitCode = 0;
try {
  step("Checking PostgreSQL and Redis");
  services.push(...(await ensurePostgres(baseDatabaseUrl)), ...(await ensureRedis(redisUrl)));
  if (only !== "e2e") {
    step("Running unit and integration tests");
    run("npx", ["vitest", "run", ...filters], { env: { DATABASE_URL: baseDatabaseUrl, REDIS_URL: redisUrl } });
  }
  if (only !== "unit") await endToEnd();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  exitCode = 1;
} finally {
  await stopServices(services.reverse());
}
process.exit(exitCode);
