// Makes sure PostgreSQL and Redis are reachable: use the ones DATABASE_URL / REDIS_URL point at
// (or the defaults on 127.0.0.1); otherwise start local ones from installed binaries into
// .data/; otherwise explain exactly how to get them.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { commandExists, repoRoot, type Service, step } from "./run.ts";

const HOW_TO_GET_SERVICES = `
PostgreSQL 15+ and Redis 7+ are needed. Any of these works:
  • Debian/Ubuntu:  sudo apt-get install -y postgresql redis-server
  • macOS:          brew install postgresql@16 redis
  • Docker:         docker compose up -d      (uses docker-compose.yml in this folder)
or point DATABASE_URL / REDIS_URL at servers you already run.`;

const handedOut = new Set<number>();

/**
 * A port nothing listens on, chosen by the OS (listen on 0, then release it): probing a fixed
 * range raced with other checkouts' runs for the same numbers. Never the same port twice in one
 * process, so two services started back to back don't get one port.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        const chosen = typeof address === "object" && address !== null ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (port !== 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free port");
}

export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isPortOpen(host, port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function isLocal(host: string): boolean {
  return ["127.0.0.1", "localhost", "::1"].includes(host);
}

function postgresBinDir(): string | null {
  if (commandExists("pg_config")) {
    const bindir = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" }).stdout.trim();
    if (existsSync(join(bindir, "initdb"))) return bindir;
  }
  const debianRoot = "/usr/lib/postgresql";
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot).sort((a, b) => Number(b) - Number(a));
    for (const version of versions)
      if (existsSync(join(debianRoot, version, "bin", "initdb"))) return join(debianRoot, version, "bin");
  }
  return commandExists("initdb") ? "" : null;
}

/** Returns services it had to start (the caller stops them on exit). */
export async function ensurePostgres(databaseUrl: string): Promise<Service[]> {
  const url = new URL(databaseUrl);
  const host = url.hostname;
  const port = Number(url.port || 5432);
  if (await isPortOpen(host, port)) return [];
  // A machine where the packaged server is installed but stopped (e.g. after a reboot).
  if (isLocal(host) && commandExists("pg_ctlcluster") && existsSync("/etc/postgresql")) {
    for (const version of readdirSync("/etc/postgresql")) {
      spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "ignore" });
    }
    if (await waitForPort(host, port, 10_000)) return [];
  }
  const bindir = postgresBinDir();
  if (!isLocal(host) || bindir === null) {
    throw new Error(`PostgreSQL is not reachable at ${host}:${port}.${HOW_TO_GET_SERVICES}`);
  }
  const dataDir = join(repoRoot, ".data", "postgres");
  const bin = (name: string) => (bindir ? join(bindir, name) : name);
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    step(`Creating a local PostgreSQL cluster in ${dataDir}`);
    mkdirSync(dataDir, { recursive: true });
    const user = url.username || "postgres";
    const initdb = spawnSync(bin("initdb"), ["-D", dataDir, "-U", user, "--auth=trust", "-E", "UTF8"], {
      stdio: "inherit",
    });
    if (initdb.status !== 0) throw new Error(`initdb failed.${HOW_TO_GET_SERVICES}`);
  }
  step(`Starting PostgreSQL on ${host}:${port} from ${dataDir}`);
  const child = spawn(bin("postgres"), ["-D", dataDir, "-p", String(port), "-k", dataDir, "-h", host], {
    stdio: "ignore",
  });
  if (!(await waitForPort(host, port, 30_000)))
    throw new Error(`Local PostgreSQL did not start.${HOW_TO_GET_SERVICES}`);
  return [{ name: "postgres", child }];
}

export async function ensureRedis(redisUrl: string): Promise<Service[]> {
  const url = new URL(redisUrl);
  const host = url.hostname;
  const port = Number(url.port || 6379);
  if (await isPortOpen(host, port)) return [];
  if (!isLocal(host) || !commandExists("redis-server")) {
    throw new Error(`Redis is not reachable at ${host}:${port}.${HOW_TO_GET_SERVICES}`);
  }
  const dataDir = join(repoRoot, ".data", "redis");
  mkdirSync(dataDir, { recursive: true });
  step(`Starting Redis on ${host}:${port}`);
  // noeviction: BullMQ must never lose a job key to memory pressure.
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      host,
      "--dir",
      dataDir,
      "--maxmemory-policy",
      "noeviction",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: "ignore" },
  );
  if (!(await waitForPort(host, port, 15_000))) throw new Error(`Local Redis did not start.${HOW_TO_GET_SERVICES}`);
  return [{ name: "redis", child }];
}
