// One database per test file, cloned from the migrated template: tests never see each other.
import { createPrismaClient, type Db } from "@steward/db/client";
import { dropDatabase, recreateDatabase } from "../../scripts/lib/database.ts";
import { inject } from "vitest";
import { testDatabaseUrl, uniqueName } from "./env.ts";

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const url = testDatabaseUrl(uniqueName("steward_test"));
  await recreateDatabase(url, inject("templateDatabase"));
  const db = createPrismaClient(url, 4);
  return {
    url,
    db,
    async drop() {
      await db.$disconnect();
      await dropDatabase(url);
    },
  };
}
