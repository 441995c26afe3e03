// The one place that builds a Prisma client; api, worker, core and tests import it from here.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/client/client.ts";
import { databaseConnectionOptions } from "./connection.ts";
import { pgSqlReader, type SqlReader } from "./sql.ts";

export { Prisma } from "../generated/client/client.ts";
export type * from "../generated/client/client.ts";
export * from "../generated/client/enums.ts";
export { databaseConnectionOptions, DEFAULT_DATABASE_URL } from "./connection.ts";
export type { SqlReader } from "./sql.ts";

export type Db = PrismaClient;
/** A Prisma client or an interactive transaction: what core functions accept. */
export type DbTx = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export interface PrismaClientOptions {
  /** Called with each query's duration in ms (the database p95 signal measures the app's real queries). */
  onQuery?: (durationMs: number) => void;
}

export interface Database {
  db: PrismaClient;
  /** Hand-written statements on the same pool (./sql.ts): the hot reads only. */
  sql: SqlReader;
}

/** Prisma and the SQL reader on one `pg` pool; `db.$disconnect()` ends the pool. */
export function createDatabase(databaseUrl?: string, poolSize = 10, options: PrismaClientOptions = {}): Database {
  const pool = new pg.Pool({ ...databaseConnectionOptions(databaseUrl), max: poolSize });
  // An idle connection that breaks (the database restarts) is dropped; the next query opens another.
  pool.on("error", () => undefined);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const { onQuery } = options;
  const sql = pgSqlReader(pool, onQuery);
  if (!onQuery) return { db: new PrismaClient({ adapter }), sql };
  const db = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  db.$on("query", (event) => onQuery(event.duration));
  return { db, sql };
}

export function createPrismaClient(
  databaseUrl?: string,
  poolSize = 10,
  options: PrismaClientOptions = {},
): PrismaClient {
  return createDatabase(databaseUrl, poolSize, options).db;
}
