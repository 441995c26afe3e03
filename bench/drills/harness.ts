// What every fault drill stands on: its own Redis (a redis-server on a free port, so restarting or
// flushing it touches nobody else), its own database (on the shared PostgreSQL, or a throwaway
// cluster for the PostgreSQL drill), the Stripe and SMTP sandboxes in this process (their faults
// are set directly), and the worker as a real separate process, so SIGKILL is real.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrismaClient, type Db } from "@steward/db/client";
import { Redis } from "ioredis";
import { dropDatabase, migrate, recreateDatabase } from "../../scripts/lib/database.ts";
import { repoRoot } from "../../scripts/lib/run.ts";
import { freePort, isPortOpen } from "../../scripts/lib/services.ts";
import { startSmtpSandbox, type ReceivedEmail, type SmtpSandbox } from "../../sandbox/src/smtp/server.ts";
import { startStripeSandbox, type StripeSandbox } from "../../sandbox/src/stripe/server.ts";
import { type BullJobQueues, createBullJobQueues } from "@steward/jobs/bullmq";

export const WEBHOOK_SECRET = "whsec_steward_drills";

/** DRILL_TRACE=1 prints each phase as it happens. */
export function trace(message: string): void {
  if (process.env.DRILL_TRACE) console.log(`[drill ${new Date().toISOString().slice(11, 23)}] ${message}`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitUntil(
  label: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<number> {
  const started = Date.now();
  trace(`waiting for ${label}`);
  const timedOut = () => new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
  for (;;) {
    // A check that itself hangs (a query on a dead connection) must not hang the drill.
    let timer: NodeJS.Timeout | undefined;
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    const met = await Promise.race([
      Promise.resolve(condition()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), left);
      }),
    ]).finally(() => clearTimeout(timer));
    if (met) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw timedOut();
    await sleep(intervalMs);
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
  });
}

// ───────────────────────────── Redis of our own ─────────────────────────────

export interface OwnRedis {
  url: string;
  port: number;
  /** Stops the server (nothing is kept on disk, so it comes back empty: a flush). */
  stop(): Promise<void>;
  start(): Promise<void>;
  flushAll(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    child.once("error", () => undefined);
    // noeviction, as in production: BullMQ must never lose a key to memory pressure.
    await waitUntil("redis-server", () => isPortOpen("127.0.0.1", port, 200), 15_000);
    const client = new Redis(port, "127.0.0.1", { lazyConnect: true });
    await client.connect();
    await client.config("SET", "maxmemory-policy", "noeviction");
    client.disconnect();
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    start,
    async stop() {
      const running = child;
      child = null;
      if (!running) return;
      running.kill("SIGTERM");
      await exited(running);
    },
    async flushAll() {
      const client = new Redis(port, "127.0.0.1", { lazyConnect: true });
      await client.connect();
      await client.flushall();
      client.disconnect();
    },
  };
}

// ───────────────────────────── PostgreSQL ─────────────────────────────

export interface OwnPostgres {
  /** A URL of this cluster's `postgres` database; databases are created next to it. */
  baseUrl: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  if (existsSync(root))
    for (const version of readdirSync(root).sort((a, b) => Number(b) - Number(a)))
      if (existsSync(join(root, version, "bin", "initdb"))) return join(root, version, "bin");
  throw new Error("PostgreSQL binaries (initdb, postgres) not found under /usr/lib/postgresql");
}

/** PostgreSQL refuses to run as root: then run it as the `postgres` system user. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  const uid = id("-u");
  const gid = id("-g");
  if (!Number.isInteger(uid) || uid <= 0) throw new Error("running as root and there is no 'postgres' user");
  return { uid, gid };
}

/** A throwaway cluster (initdb into a temp dir) on a free port: ours to stop and restart. */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBin();
  const user = postgresUser();
  const dataDir = mkdtempSync(join(tmpdir(), "steward-drill-pg-"));
  if (user) chownSync(dataDir, user.uid, user.gid);
  const initdb = spawnSync(join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8"], {
    encoding: "utf8",
    ...user,
  });
  if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr}`);
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    // fsync off: a drill's data is thrown away; this is about availability, not durability.
    child = spawn(
      join(bin, "postgres"),
      ["-D", dataDir, "-p", String(port), "-k", dataDir, "-h", "127.0.0.1", "-c", "fsync=off"],
      { stdio: "ignore", ...user },
    );
    await waitUntil("postgres", () => isPortOpen("127.0.0.1", port, 200), 30_000);
    // The port opens before the server accepts queries.
    await sleep(300);
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running) return;
    running.kill("SIGINT"); // fast shutdown: open connections are terminated, as in a restart
    await exited(running);
  };
  await start();
  return {
    baseUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ───────────────────────────── SMTP that can go down ─────────────────────────────

export interface DrillSmtp {
  port: number;
  /** Everything received, across restarts. */
  messages(): readonly ReceivedEmail[];
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

async function startDrillSmtp(): Promise<DrillSmtp> {
  const port = await freePort();
  const archived: ReceivedEmail[] = [];
  let server: SmtpSandbox | null = await startSmtpSandbox({ port });
  return {
    port,
    messages: () => [...archived, ...(server?.messages() ?? [])],
    async down() {
      if (!server) return;
      archived.push(...server.messages());
      await server.stop();
      server = null;
    },
    async up() {
      server ??= await startSmtpSandbox({ port });
    },
    async stop() {
      await server?.stop();
      server = null;
    },
  };
}

// ───────────────────────────── The worker, a real process ─────────────────────────────

export interface WorkerProcess {
  start(): Promise<void>;
  /** SIGKILL: no shutdown hook runs, jobs in flight are abandoned mid-way. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  readonly pid: number | null;
  readonly alive: boolean;
  /** The last lines it logged (for a failure message). */
  tail(): string;
}

function workerProcess(env: Record<string, string>): WorkerProcess {
  let child: ChildProcess | null = null;
  let log: string[] = [];
  const api: WorkerProcess = {
    get pid() {
      return child?.pid ?? null;
    },
    get alive() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    tail: () => log.slice(-30).join("\n"),
    async start() {
      // node itself (not npx → tsx → node), so the pid we SIGKILL is the worker's.
      const started = spawn(process.execPath, ["--import", "tsx", "worker/src/main.ts"], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      log = [];
      let ready = false;
      for (const stream of [started.stdout, started.stderr]) {
        stream?.setEncoding("utf8");
        stream?.on("data", (chunk: string) => {
          for (const line of chunk.split("\n")) {
            if (!line.trim()) continue;
            log.push(line);
            if (log.length > 200) log.splice(0, 100);
            if (line.includes('"worker started"')) ready = true;
          }
        });
      }
      await waitUntil("the worker to start", () => ready || started.exitCode !== null, 60_000, 50);
      if (!ready) throw new Error(`worker exited at start:\n${api.tail()}`);
    },
    async kill() {
      const running = child;
      if (!running) return;
      running.kill("SIGKILL");
      await exited(running);
      child = null;
    },
    async stop() {
      const running = child;
      if (!running) return;
      running.kill("SIGTERM");
      const timer = setTimeout(() => running.kill("SIGKILL"), 10_000);
      await exited(running);
      clearTimeout(timer);
      child = null;
    },
  };
  return api;
}

// ───────────────────────────── The stack ─────────────────────────────

export interface DrillStack {
  db: Db;
  databaseUrl: string;
  redis: OwnRedis;
  stripe: StripeSandbox;
  smtp: DrillSmtp;
  worker: WorkerProcess;
  /** The environment the worker (and an API built for the drill) runs with. */
  env: Record<string, string>;
  /** For enqueuing what the API would enqueue, and for looking at jobs. */
  queue: BullJobQueues;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Base URL of the PostgreSQL to create the drill's database on (default: DATABASE_URL). */
  postgresUrl?: string;
  env?: Record<string, string>;
  /** A migrated database to clone instead of migrating (the test suite's template). */
  template?: string;
}

export async function startDrillStack(options: StackOptions = {}): Promise<DrillStack> {
  const url = new URL(
    options.postgresUrl ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward",
  );
  url.pathname = `/steward_drill_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const databaseUrl = url.toString();
  await recreateDatabase(databaseUrl, options.template);
  if (!options.template) migrate(databaseUrl);
  const db = createPrismaClient(databaseUrl, 4);
  const redis = await startOwnRedis();
  const stripe = await startStripeSandbox({ port: 0, webhookSecret: WEBHOOK_SECRET }); // 25 req/s, as Stripe test mode
  const smtp = await startDrillSmtp();
  const env: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    REDIS_PREFIX: "drill",
    STRIPE_API_KEY: stripe.apiKey,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_HOST: stripe.host,
    STRIPE_API_PORT: String(stripe.port),
    STRIPE_API_PROTOCOL: "http",
    STRIPE_TIMEOUT_MS: "5000",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
    // Seconds, not the production half-minute, so a killed worker's jobs come back within a drill.
    WORKER_LOCK_MS: "2000",
    WORKER_SCHEDULE_CHECK_MS: "1000",
    OUTBOX_LEASE_MS: "3000",
    ...options.env,
  };
  // Errors ignored: the Redis drill takes Redis away on purpose.
  const queue = createBullJobQueues({ redisUrl: redis.url, prefix: env.REDIS_PREFIX ?? "drill" });
  const worker = workerProcess(env);
  return {
    db,
    databaseUrl,
    redis,
    stripe,
    smtp,
    worker,
    env,
    queue,
    async stop() {
      await worker.stop();
      await queue.close();
      await redis.stop();
      await stripe.stop();
      await smtp.stop();
      await db.$disconnect();
      await dropDatabase(databaseUrl);
    },
  };
}

// ───────────────────────────── Results ─────────────────────────────

export interface Check {
  label: string;
  ok: boolean;
  detail: string;
}

export interface DrillResult {
  name: string;
  /** e.g. "20 kills" */
  runs: string;
  checks: Check[];
  durationMs: number;
  /** Figures worth printing (retries, max requests/s, time to recover...). */
  figures: string;
}

export class Checks {
  readonly list: Check[] = [];
  expect(label: string, ok: boolean, detail = ""): void {
    this.list.push({ label, ok, detail });
  }
  equal(label: string, actual: number, expected: number): void {
    this.expect(label, actual === expected, `${actual} (expected ${expected})`);
  }
  get failures(): Check[] {
    return this.list.filter((check) => !check.ok);
  }
}

export function random(min: number, max: number): number {
  return min + Math.random() * (max - min);
}
