// The documented production deployment is well-formed: the compose file validates (with Docker's
// own validator where one is installed), its production profile runs N stateless APIs behind the
// web load balancer and M workers on one PostgreSQL and one Redis, every Dockerfile starts an
// entry point that exists, and the web image's nginx config carries the dashboard's CSP.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderNginxConf } from "../../scripts/dashboard-nginx-conf.ts";

const root = join(import.meta.dirname, "../..");

interface ComposeService {
  profiles?: string[];
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  depends_on?: Record<string, unknown> | string[];
  command?: string[];
}

/** `docker compose` (the plugin) if present, else the standalone docker-compose; null if neither. */
function composeValidator(): string[] | null {
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0) return ["docker", "compose"];
  if (spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0) return ["docker-compose"];
  return null;
}

describe("docker-compose.yml", () => {
  const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

  it("validates with Docker's compose validator, with and without the production profile", () => {
    const validator = composeValidator();
    // Without either installed, the structural checks below still run.
    if (!validator) return;
    const [command, ...prefix] = validator;
    for (const profiles of [[], ["--profile", "production", "--profile", "migrate"]]) {
      execFileSync(command!, [...prefix, ...profiles, "config", "-q"], { cwd: root, stdio: "pipe" });
    }
  });

  it("runs several APIs and workers on one PostgreSQL and one Redis, behind the web load balancer", () => {
    const { api, worker, web, migrate, postgres, redis } = compose.services;
    expect(postgres?.profiles).toBeUndefined();
    expect(redis?.profiles).toBeUndefined();
    for (const service of [api, worker, web]) expect(service?.profiles).toEqual(["production"]);
    expect(api?.deploy?.replicas).toBeGreaterThan(1);
    expect(worker?.deploy?.replicas).toBeGreaterThan(1);
    for (const service of [api, worker]) {
      expect(service?.environment?.NODE_ENV).toBe("production");
      expect(service?.environment?.TRUSTED_PROXY_HOPS).toMatch(/\d/);
      expect(service?.environment?.DATABASE_URL).toContain("@postgres:5432/");
      expect(service?.environment?.REDIS_URL).toContain("redis://redis:6379");
    }
    // Migrations run only when the operator asks (PRODUCT.md §8), never as part of `up`.
    expect(migrate?.profiles).toEqual(["migrate"]);
    expect(JSON.stringify(api?.depends_on)).not.toContain("migrate");
  });

  it("builds every image from a Dockerfile whose entry point exists", () => {
    for (const name of ["api", "worker", "web"]) {
      const build = compose.services[name]?.build;
      expect(build?.context).toBe(".");
      const dockerfile = readFileSync(join(root, build!.dockerfile), "utf8");
      expect(dockerfile).toMatch(/^FROM /m);
      const entry = dockerfile.match(/CMD \["node", "--import", "tsx", "([^"]+)"\]/)?.[1];
      if (name !== "web") expect(entry && existsSync(join(root, entry))).toBe(true);
      expect(dockerfile).not.toMatch(/prisma migrate|migrate:deploy/);
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
      expect(conf).toContain("resolver 127.0.0.11");
      expect(conf).toContain("X-Forwarded-For $proxy_add_x_forwarded_for");
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
