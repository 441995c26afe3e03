// Runs once before the Vitest suite: makes sure PostgreSQL and Redis are there and builds the
// migrated template database that every test file clones (CREATE DATABASE … TEMPLATE is fast).
import { migrate, recreateDatabase } from "../../scripts/lib/database.ts";
import { ensurePostgres, ensureRedis } from "../../scripts/lib/services.ts";
import { testDatabaseUrl, TEMPLATE_DATABASE } from "./env.ts";

export default async function setup(): Promise<void> {
  await ensurePostgres(testDatabaseUrl(TEMPLATE_DATABASE));
  await ensureRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0");
  const url = testDatabaseUrl(TEMPLATE_DATABASE);
  await recreateDatabase(url);
  migrate(url);
}
