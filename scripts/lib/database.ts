// Database set-up for the demo and the tests: create, migrate, seed, clone.
import pg from "pg";
import { run } from "./run.ts";

function adminUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = "/postgres";
  return url.toString();
}

function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
}

async function withAdmin<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(databaseUrl) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createDatabaseIfMissing(databaseUrl: string): Promise<void> {
  const name = databaseName(databaseUrl);
  await withAdmin(databaseUrl, async (client) => {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  });
}

export async function recreateDatabase(databaseUrl: string, template?: string): Promise<void> {
  const name = databaseName(databaseUrl).replaceAll('"', '""');
  await withAdmin(databaseUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
  });
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = databaseName(databaseUrl).replaceAll('"', '""');
  await withAdmin(databaseUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export function migrate(databaseUrl: string): void {
  run("npx", ["prisma", "migrate", "deploy"], { cwd: "prisma", env: { DATABASE_URL: databaseUrl }, quiet: true });
}

export function generate(): void {
  run("npx", ["prisma", "generate"], { cwd: "prisma", quiet: true });
  run("npx", ["tsx", "api/src/print-schema.ts"], { quiet: true });
  run("npm", ["run", "generate", "-w", "web"], { quiet: true });
}
