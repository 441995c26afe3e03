// The documented deployment is well-formed: the development compose file needs no secret; the
// production one is refused without the PostgreSQL and Redis passwords or the channel-secret key
// and validates with them (with Docker's own validator where one is installed), keeps both data
// stores behind those passwords, runs N stateless APIs behind the web load balancer and M workers
// on one PostgreSQL and one Redis; every Dockerfile starts a compiled entry point (the one `npm start`
// runs), and the web image's nginx config carries the CSP and forwards /exports/ to the API.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BACKUP_S3_REQUIRED } from "@steward/core/env";
import { renderNginxConf } from "../../scripts/dashboard-nginx-conf.ts";

const root = join(import.meta.dirname, "../..");

interface PackageJson {
  workspaces?: string[];
  scripts?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
}

interface ComposeService {
  profiles?: string[];
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, unknown> | string[];
  command?: string[];
  ports?: string[];
  volumes?: string[];
  image?: string;
}

/** `docker compose` (the plugin) if present, else the standalone docker-compose; null if neither. */
function composeValidator(): string[] | null {
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0) return ["docker", "compose"];
  if (spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0) return ["docker-compose"];
  return null;
}

/** Runs the validator's `config -q` with only `variables` set (the caller's own passwords never leak in). */
function composeConfig(validator: string[], args: string[], variables: Record<string, string>) {
  const [command, ...prefix] = validator;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...variables };
  return spawnSync(command!, [...prefix, ...args, "config", "-q"], { cwd: root, env, encoding: "utf8" });
}

function readCompose(file: string) {
  const text = readFileSync(join(root, file), "utf8");
  const { services } = parse(text, { merge: true }) as { services: Record<string, ComposeService> };
  // `${NAME:?message}`: Compose refuses the whole file while NAME is unset or empty (comments aside).
  const content = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n");
  const required = new Set([...content.matchAll(/\$\{(\w+):\?[^}]*\}/g)].map((match) => match[1]));
  return { text, services, required };
}

const PASSWORDS = {
  POSTGRES_PASSWORD: "0123456789abcdef",
  REDIS_PASSWORD: "fedcba9876543210",
  NOTIFY_SECRET_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
};

describe("docker-compose.yml (development services)", () => {
  const dev = readCompose("docker-compose.yml");

  it("needs no secret, so `docker compose up -d` works as it is for the demo", () => {
    expect(dev.required.size).toBe(0);
    expect(Object.keys(dev.services).sort()).toEqual(["mailpit", "postgres", "redis"]);
    // Trust auth only where it is reachable from this machine alone.
    for (const service of Object.values(dev.services))
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    const validator = composeValidator();
    if (!validator) return;
    const result = composeConfig(validator, [], {});
    expect(result.status, result.stderr).toBe(0);
  });
});

describe("docker-compose.production.yml", () => {
  const production = readCompose("docker-compose.production.yml");
  const { services } = production;

  it("is refused without the PostgreSQL and Redis passwords or NOTIFY_SECRET_KEY, and validates with them", () => {
    expect([...production.required].sort()).toEqual(["NOTIFY_SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"]);
    const validator = composeValidator();
    // Without either installed, the structural checks here and below still run.
    if (!validator) return;
    const args = ["-f", "docker-compose.production.yml", "--profile", "migrate"];
    for (const missing of Object.keys(PASSWORDS)) {
      const others = Object.fromEntries(Object.entries(PASSWORDS).filter(([name]) => name !== missing));
      const refused = composeConfig(validator, args, others);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain(missing);
      // Set but empty is refused too (`:?`, not `?`).
      expect(composeConfig(validator, args, { ...others, [missing]: "" }).status).not.toBe(0);
    }
    const accepted = composeConfig(validator, args, PASSWORDS);
    expect(accepted.status, accepted.stderr).toBe(0);
  });

  it("keeps PostgreSQL and Redis behind those passwords, and the services connect with them", () => {
    const { postgres, redis } = services;
    expect(postgres?.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(postgres?.environment?.POSTGRES_HOST_AUTH_METHOD).toBe("scram-sha-256");
    expect(postgres?.environment?.POSTGRES_INITDB_ARGS).toContain("--auth-host=scram-sha-256");
    const redisCommand = redis?.command ?? [];
    expect(redisCommand[redisCommand.indexOf("--requirepass") + 1]).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    // Neither is published on the host: only the containers reach them.
    for (const service of [postgres, redis]) expect(service?.ports).toBeUndefined();
    for (const name of ["api", "worker", "migrate"]) {
      const environment = services[name]?.environment;
      expect(environment?.DATABASE_URL).toMatch(
        /^postgresql:\/\/postgres:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\//,
      );
      expect(environment?.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379\//);
    }
  });

  it("runs several APIs and workers on one PostgreSQL and one Redis, behind the web load balancer", () => {
    const { api, worker, web, migrate, postgres, redis } = services;
    for (const service of [postgres, redis, api, worker, web]) expect(service?.profiles).toBeUndefined();
    expect(api?.deploy?.replicas).toBeGreaterThan(1);
    expect(worker?.deploy?.replicas).toBeGreaterThan(1);
    for (const service of [api, worker]) {
      expect(service?.environment?.NODE_ENV).toBe("production");
      expect(service?.environment?.TRUSTED_PROXY_HOPS).toMatch(/\d/);
      expect(service?.environment?.NOTIFY_SECRET_KEY).toMatch(/^\$\{NOTIFY_SECRET_KEY:\?/);
    }
    // Migrations run only when the operator asks (PRODUCT.md §8), never as part of `up`.
    expect(migrate?.profiles).toEqual(["migrate"]);
    expect(JSON.stringify(api?.depends_on)).not.toContain("migrate");
  });

  it("gives the worker's backup job a pg_dump of the server's major version, a shared volume and the S3 settings", () => {
    const { worker, postgres } = services;
    const major = postgres?.image?.match(/^postgres:(\d+)/)?.[1];
    expect(major).toBeDefined();
    // An older pg_dump refuses a newer server: the runtime image installs the server's client.
    const dockerfile = readFileSync(join(root, worker!.build!.dockerfile), "utf8");
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(runtimeStage).toContain(`ARG POSTGRES_MAJOR=${major}`);
    expect(runtimeStage).toContain("postgresql-client-${POSTGRES_MAJOR}");
    const backupDir = worker?.environment?.BACKUP_DIR;
    expect(backupDir).toBeDefined();
    expect(worker?.volumes?.some((volume) => volume.endsWith(`:${backupDir}`))).toBe(true);
    for (const name of BACKUP_S3_REQUIRED) expect(worker?.environment?.[name]).toBe(`\${${name}:-}`);
  });

  it("builds every image from a Dockerfile whose entry point exists", () => {
    for (const name of ["api", "worker", "web"]) {
      const build = services[name]?.build;
      expect(build?.context).toBe(".");
      const dockerfile = readFileSync(join(root, build!.dockerfile), "utf8")
        .split("\n")
        .filter((line) => !line.trimStart().startsWith("#"))
        .join("\n");
      expect(dockerfile).toMatch(/^FROM /m);
      expect(dockerfile).not.toMatch(/prisma migrate|migrate:deploy/);
      if (name === "web") continue;
      // The runtime stage runs the compiled entry point `npm start` runs, from the assembled runtime.
      const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
      expect(runtimeStage).not.toMatch(/tsx|\.ts\b/);
      expect(runtimeStage).toContain("COPY --from=build --chown=node:node /runtime /app");
      expect(dockerfile).toContain(`scripts/production-runtime.ts /runtime ${name}`);
      const entry = runtimeStage.match(
        /CMD \["node", "--conditions=steward-dist", "--enable-source-maps", "([^"]+)"\]/,
      )?.[1];
      expect(entry).toBe(`${name}/dist/main.js`);
      expect(existsSync(join(root, name, "src", "main.ts"))).toBe(true);
      const start = (JSON.parse(readFileSync(join(root, name, "package.json"), "utf8")) as PackageJson).scripts?.start;
      expect(start).toBe("NODE_ENV=production node --conditions=steward-dist --enable-source-maps dist/main.js");
    }
  });
});

describe("the compiled packages", () => {
  // In production Node picks `steward-dist` (compiled dist/); TypeScript, tsx and Vitest the sources.
  it("map every exported TypeScript source to its compiled file, so new exports work in the images too", () => {
    const folders = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson).workspaces ?? [];
    for (const folder of folders) {
      const manifest = JSON.parse(readFileSync(join(root, folder, "package.json"), "utf8")) as PackageJson;
      const built = manifest.scripts?.build?.includes("tsconfig.build.json") ?? false;
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        const source = typeof target === "string" ? target : target.default;
        if (!built || !source?.endsWith(".ts")) continue;
        expect(typeof target, `${folder} exports ${subpath}`).toBe("object");
        const compiled = (target as Record<string, string>)["steward-dist"];
        expect(compiled, `${folder} exports ${subpath}`).toMatch(/^\.\/dist\/.*\.js$/);
      }
    }
  });
});

describe("the web image's nginx config", () => {
  it("carries the CSP with this build's script hashes and proxies websockets to every api replica", () => {
    const dist = mkdtempSync(join(tmpdir(), "steward-build-"));
    try {
      const script = "console.log('boot')";
      writeFileSync(join(dist, "index.html"), `<html><body><script>${script}</script></body></html>`);
      const conf = renderNginxConf(dist, readFileSync(join(root, "web/nginx.conf.template"), "utf8"));
      const hash = createHash("sha256").update(script).digest("base64");
      expect(conf).toContain(`script-src 'self' 'sha256-${hash}'`);
      expect(conf).not.toContain("__CSP__");
      expect(conf).toMatch(/location = \/graphql \{[^}]*proxy_set_header Upgrade \$http_upgrade/);
      // Downloads are the API's (tests/integration/production-build.test.ts runs them through nginx).
      expect(conf).toMatch(/location \/exports\/ \{\s*proxy_pass \$api;/);
      expect(conf).toContain("resolver 127.0.0.11");
      expect(conf).toContain("X-Forwarded-For $proxy_add_x_forwarded_for");
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
