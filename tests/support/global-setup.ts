// Runs once before the Vitest suite: makes sure PostgreSQL and Redis are there and builds the
// migrated template database that every test file clones (CREATE DATABASE … TEMPLATE is fast).
// The template's name is unique per run, so two runs on one machine never collide.
import type { TestProject } from "vitest/node";
import { dropDatabase, migrate, recreateDatabase } from "../../scripts/lib/database.ts";
import { ensurePostgres, ensureRedis } from "../../scripts/lib/services.ts";
import { testDatabaseUrl, uniqueName } from "./env.ts";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const templateDatabase = uniqueName("steward_template");
  const url = testDatabaseUrl(templateDatabase);
  await ensurePostgres(url);
  await ensureRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0");
  await recreateDatabase(url);
  migrate(url);
  project.provide("templateDatabase", templateDatabase);
  return () => dropDatabase(url);
}
