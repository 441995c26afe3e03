// The one place that builds a Prisma client; api, worker, core and tests import it from here.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/client/client.ts";
import { databaseConnectionOptions } from "./connection.ts";

export { Prisma } from "../generated/client/client.ts";
export type * from "../generated/client/client.ts";
export * from "../generated/client/enums.ts";
export { databaseConnectionOptions, DEFAULT_DATABASE_URL } from "./connection.ts";

export type Db = PrismaClient;
/** A Prisma client or an interactive transaction: what core functions accept. */
export type DbTx = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export interface PrismaClientOptions {
  /** Called with each query's duration in ms (the database p95 signal measures the app's real queries). */
  onQuery?: (durationMs: number) => void;
}

export function createPrismaClient(
  databaseUrl?: string,
  poolSize = 10,
  options: PrismaClientOptions = {},
): PrismaClient {
  const adapter = new PrismaPg({ ...databaseConnectionOptions(databaseUrl), max: poolSize });
  const { onQuery } = options;
  if (!onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  client.$on("query", (event) => onQuery(event.duration));
  return client;
}
