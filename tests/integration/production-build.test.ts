// The production build as the images run it: `turbo run build` (what `npm run build` runs after
// generating), the runtime the Dockerfiles assemble (scripts/production-runtime.ts: compiled dist/,
// `npm ci --omit=dev`, no TypeScript sources, no tsx), migrated by the Prisma CLI from there, the
// compiled API and worker started with `npm start` (NODE_ENV=production), and a real nginx running
// the web image's config, rendered for free ports, serving the built dashboard in front of the API.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { EXPORT_COLUMNS } from "@steward/core/reconciliation/evidence";
import { createPrismaClient, type Db } from "@steward/db/client";
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { renderNginxConf } from "../../scripts/dashboard-nginx-conf.ts";
import { dropDatabase, recreateDatabase } from "../../scripts/lib/database.ts";
import { repoRoot, run, type Service, stopServices, waitForHttp } from "../../scripts/lib/run.ts";
import { freePort } from "../../scripts/lib/services.ts";
import { assembleRuntime } from "../../scripts/production-runtime.ts";
import { testDatabaseUrl, uniqueName } from "../support/env.ts";
import { createOperator, TEST_PASSWORD } from "../support/fixtures.ts";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
const NGINX_CANDIDATES = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx"];

/** The nginx binary; never skipped: without it this test fails and says how to get it. */
function nginxBinary(): string {
  const onPath = spawnSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).stdout.trim();
  const found = onPath || NGINX_CANDIDATES.find((path) => existsSync(path));
  if (!found)
    throw new Error(
      "nginx is not installed, and this test runs the web image's config through a real one: " +
        "apt-get install -y nginx (CI's .ci/run installs it).",
    );
  return found;
}

/**
 * The web image's nginx.conf with only what differs outside Docker: free ports, the API's address
 * instead of Docker's `api` name, this build's directory, and writable paths under `dir`.
 */
function nginxConfForTest(dir: string, listenPort: number, apiPort: number): string {
  const dist = join(repoRoot, "web", "build");
  const production = renderNginxConf(dist, readFileSync(join(repoRoot, "web", "nginx.conf.template"), "utf8"));
  // A copy, as the image has one: nginx's unprivileged workers may not reach into the checkout.
  cpSync(dist, join(dir, "html"), { recursive: true });
  const replacements: [string, string][] = [
    ["listen 8080;", `listen 127.0.0.1:${listenPort};`],
    ["root /usr/share/nginx/html;", `root ${dir}/html;`],
    ["set $api http://api:4000;", `set $api http://127.0.0.1:${apiPort};`],
    [
      "http {",
      `http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;`,
    ],
  ];
  let conf = `pid ${dir}/nginx.pid;\n${production}`;
  for (const [from, to] of replacements) {
    // A template change that breaks a replacement must fail here, not test some other config.
    if (!conf.includes(from)) throw new Error(`web/nginx.conf.template no longer contains "${from}"`);
    conf = conf.replace(from, to);
  }
  return conf;
}

/** Starts a command in its own process group with exactly `env` (plus PATH and HOME), not the test's. */
function startProcess(name: string, command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => output.push(chunk));
  }
  return { service: { name, child } satisfies Service, output };
}

/** Every file under `dir` (node_modules excluded), relative to it. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules") return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path, base) : [relative(base, path)];
  });
}

const services: Service[] = [];
const logs: { name: string; output: string[] }[] = [];
const clients: Client[] = [];
let workDir: string;
let runtime: string;
let databaseUrl: string;
let db: Db;
let redisPrefix: string;
let apiUrl: string;
let siteUrl: string;
let cookie: string;
let runId: string;

async function graphql<Data>(query: string, variables: Record<string, unknown> = {}, withCookie = true) {
  const response = await fetch(`${siteUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(withCookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Data; errors?: { message: string }[] };
  return { response, ...body };
}

beforeAll(async () => {
  const nginx = nginxBinary();
  workDir = mkdtempSync(join(tmpdir(), "steward-production-"));
  // nginx's workers (an unprivileged user when the test runs as root) write their temp files here.
  chmodSync(workDir, 0o755);

  // The code is generated already (npm test does it first); build every package, the dashboard too.
  run("npx", ["turbo", "run", "build", "--only"], { quiet: true });
  runtime = join(workDir, "app");
  assembleRuntime(runtime, ["api", "worker"]);

  // A new database, migrated by the Prisma CLI from the runtime (what the migrate service runs).
  databaseUrl = testDatabaseUrl(uniqueName("steward_production"));
  await recreateDatabase(databaseUrl);
  run("npm", ["run", "migrate:deploy", "-w", "prisma"], {
    cwd: runtime,
    env: { DATABASE_URL: databaseUrl },
    quiet: true,
  });
  db = createPrismaClient(databaseUrl, 2);
  await createOperator(db, "OPERATOR", "olive@test.example");
  const reconciliation = await db.reconciliationRun.create({
    data: {
      periodStart: new Date("2026-11-01T00:00:00Z"),
      periodEnd: new Date("2026-11-08T00:00:00Z"),
      status: "COMPLETED",
      trigger: "MANUAL",
      finishedAt: new Date("2026-11-08T00:05:00Z"),
      chargesCompared: 1,
      discrepancyCount: 1,
      stripeTotals: { aud: { count: 1, amountCents: 2200, refundedCents: 0 } },
      dbTotals: {},
    },
  });
  runId = reconciliation.id;
  await db.discrepancy.create({
    data: {
      runId,
      kind: "MISSING_IN_DB",
      stripeChargeId: "ch_production_build",
      stripeAmountCents: 2200,
      stripeCurrency: "aud",
    },
  });

  redisPrefix = uniqueName("prod");
  const apiPort = await freePort();
  const nginxPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  siteUrl = `http://127.0.0.1:${nginxPort}`;
  // What a production instance needs and nothing more: NODE_ENV comes from `npm start` itself.
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    NOTIFY_SECRET_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    STRIPE_API_KEY: "sk_test_production_build",
    STRIPE_WEBHOOK_SECRET: "whsec_production_build",
    LOG_LEVEL: "warn",
  };
  const started = [
    startProcess("api", "npm", ["start", "-w", "api"], runtime, {
      ...env,
      API_PORT: String(apiPort),
      TRUSTED_PROXY_HOPS: "1",
    }),
    startProcess("worker", "npm", ["start", "-w", "worker"], runtime, env),
  ];
  writeFileSync(join(workDir, "nginx.conf"), nginxConfForTest(workDir, nginxPort, apiPort));
  started.push(
    startProcess(
      "nginx",
      nginx,
      ["-p", workDir, "-c", join(workDir, "nginx.conf"), "-e", "stderr", "-g", "daemon off;"],
      workDir,
      {},
    ),
  );
  for (const { service, output } of started) {
    services.push(service);
    logs.push({ name: service.name, output });
  }
  try {
    await waitForHttp(`${apiUrl}/readyz`, 60_000);
    await waitForHttp(`${siteUrl}/healthz`, 20_000);
  } catch (error) {
    const detail = logs.map(({ name, output }) => `[${name}] ${output.join("").slice(-2000)}`).join("\n");
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${detail}`, { cause: error });
  }
  const login = await graphql<{ login: { __typename: string } }>(
    `
      mutation ($email: String!, $password: String!) {
        login(email: $email, password: $password) {
          __typename
        }
      }
    `,
    { email: "olive@test.example", password: TEST_PASSWORD },
    false,
  );
  cookie = login.response.headers.get("set-cookie")?.split(";")[0] ?? "";
  if (!cookie) throw new Error(`login through nginx failed: ${JSON.stringify(login)}`);
}, 10 * 60_000);

afterAll(async () => {
  await stopServices(services);
  for (const client of clients) await client.dispose();
  await db?.$disconnect();
  if (databaseUrl) await dropDatabase(databaseUrl);
  // Some 11,000 files of node_modules: removing them took half a minute on a busy disk here.
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 5 * 60_000);

describe("the production runtime", () => {
  it("holds compiled JavaScript and production dependencies only: no TypeScript sources, no tsx", () => {
    const files = filesUnder(runtime);
    // The only TypeScript left is what the Prisma CLI loads to migrate (its config and connection options).
    expect(files.filter((file) => file.endsWith(".ts")).sort()).toEqual([
      "prisma/prisma.config.ts",
      "prisma/src/connection.ts",
    ]);
    for (const folder of ["api", "worker", "core", "prisma"]) expect(files).toContain(`${folder}/package.json`);
    expect(files).toContain("api/dist/main.js");
    expect(files).toContain("worker/dist/main.js");
    for (const devOnly of ["tsx", "vitest", "turbo", "@playwright/test", "eslint", "vite"])
      expect(existsSync(join(runtime, "node_modules", devOnly)), devOnly).toBe(false);
  });

  it("runs the compiled API in production: /readyz answers, introspection is off", async () => {
    const ready = await fetch(`${apiUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ postgres: true, redis: true });
    const introspection = await graphql<unknown>(`
      {
        __schema {
          queryType {
            name
          }
        }
      }
    `);
    expect(introspection.errors?.[0]?.message).toMatch(/introspection is disabled in production/i);
  });
});

describe("nginx in front of the compiled API", () => {
  it("serves the built dashboard at / and at any dashboard route, with its CSP", async () => {
    const index = readFileSync(join(repoRoot, "web", "build", "index.html"), "utf8");
    for (const path of ["/", "/reconciliation"]) {
      const page = await fetch(`${siteUrl}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self' 'sha256-");
      expect(await page.text()).toBe(index);
    }
    const ready = await fetch(`${siteUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  it("forwards /graphql to the API", async () => {
    const me = await graphql<{ me: { email: string } | null }>(`
      {
        me {
          email
        }
      }
    `);
    expect(me.response.status).toBe(200);
    expect(me.data?.me?.email).toBe("olive@test.example");
  });

  it("upgrades /graphql to a websocket, and an event from the compiled worker's job arrives over it", async () => {
    class BrowserLikeWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers: { cookie } });
      }
    }
    const client = createClient({
      url: `${siteUrl.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: BrowserLikeWebSocket,
      retryAttempts: 0,
    });
    clients.push(client);
    const finished = new Promise<{ status: string; trigger: string }>((resolve, reject) => {
      client.subscribe<{ jobRunRecorded: { jobName: string; status: string; trigger: string } }>(
        { query: `subscription { jobRunRecorded { jobName status trigger } }` },
        {
          next: ({ data }) => {
            const event = data?.jobRunRecorded;
            if (event?.jobName === "heartbeat" && event.trigger === "MANUAL" && event.status !== "RUNNING")
              resolve(event);
          },
          error: reject,
          complete: () => reject(new Error("subscription completed before the job finished")),
        },
      );
    });
    // Queue the job only once the socket is open and subscribed, so the event cannot be missed.
    await new Promise<void>((resolve) => client.on("connected", () => resolve()));
    const redis = new Redis(redisUrl);
    try {
      await expect
        .poll(async () => {
          const reply = (await redis.pubsub("NUMSUB", `${redisPrefix}:events:jobRunRecorded`)) as [string, number];
          return Number(reply[1]);
        })
        .toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
    const queued = await graphql<{ runJobNow: { __typename: string } }>(`
      mutation {
        runJobNow(jobName: "heartbeat") {
          __typename
        }
      }
    `);
    expect(queued.data?.runJobNow.__typename).toBe("MutationRunJobNowSuccess");
    await expect(finished).resolves.toEqual({ jobName: "heartbeat", status: "SUCCEEDED", trigger: "MANUAL" });
  }, 60_000);

  it("forwards /exports/ to the API: the reconciliation CSV and JSON, not the dashboard's index.html", async () => {
    const csv = await fetch(`${siteUrl}/exports/reconciliation/${runId}.csv`, { headers: { cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toContain(`payment-reconciliation-2026-11-08-${runId}.csv`);
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(","));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain("ch_production_build");

    const json = await fetch(`${siteUrl}/exports/reconciliation/${runId}.json`, { headers: { cookie } });
    expect(json.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(((await json.json()) as { run: { id: string } }).run.id).toBe(runId);

    // The API's own answer without a session, not a page.
    const anonymous = await fetch(`${siteUrl}/exports/reconciliation/${runId}.csv`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("content-type")).toBe("application/json");
  });
});
