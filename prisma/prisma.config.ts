// Loaded by the Prisma CLI only (never by the application). It runs migrations through the
// WebAssembly schema engine and a pg driver adapter, so nothing has to be downloaded.
// See ../shared/notes/toolchain-offline.md for the two adapter gaps patched below.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { defineConfig } from "prisma/config";
import { DEFAULT_DATABASE_URL, databaseConnectionOptions } from "./src/connection.ts";

// The schema's datasource reads DATABASE_URL; the CLI refuses to read the schema without it.
process.env.DATABASE_URL ??= DEFAULT_DATABASE_URL;

type QueryResultWithFields = { fields?: { dataTypeID: number }[] };
const PG_NAME_OID = 19;
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

// eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply() below
const originalQuery = pg.Pool.prototype.query as (...args: unknown[]) => Promise<unknown>;
function patchedQuery(this: pg.Pool, ...args: unknown[]): Promise<unknown> {
  const [first] = args;
  // After the forced DROP, the pool sees its idle connection terminated (57P01); without a
  // listener Node would crash on the unhandled 'error' event.
  if (this.listenerCount("error") === 0) this.on("error", () => undefined);
  // prisma/prisma#27403: the schema engine cannot decode `name` / `"char"` columns.
  if (typeof first === "string" && /^DROP DATABASE/i.test(first) && !/WITH \(FORCE\)/i.test(first)) {
    args[0] = `${first.replace(/;\s*$/, "")} WITH (FORCE)`;
  } else if (typeof first === "object" && first !== null && "text" in first) {
    const config = first as { text: string };
    if (/^DROP DATABASE/i.test(config.text) && !/WITH \(FORCE\)/i.test(config.text)) {
      config.text = `${config.text.replace(/;\s*$/, "")} WITH (FORCE)`;
    }
  }
  return originalQuery.apply(this, args).then((result) => {
    for (const field of (result as QueryResultWithFields).fields ?? []) {
      if (field.dataTypeID === PG_NAME_OID || field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    }
    return result;
  });
}
pg.Pool.prototype.query = patchedQuery as typeof pg.Pool.prototype.query;

// adapter-pg runs a migration by splitting it at every ";", which breaks function bodies.
// PostgreSQL runs a multi-statement script in one simple query (and one implicit transaction).
interface ScriptRunner {
  executeScript(script: string): Promise<void>;
}
function runScriptsWhole<T extends ScriptRunner>(adapter: T): T {
  const internals = adapter as unknown as { client: pg.Pool; onError(error: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await internals.client.query(script);
    } catch (error) {
      internals.onError(error);
    }
  };
  return adapter;
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  adapter() {
    const factory = new PrismaPg({ ...databaseConnectionOptions(), max: 2 });
    const connect = factory.connect.bind(factory);
    const connectToShadowDb = factory.connectToShadowDb.bind(factory);
    factory.connect = async () => runScriptsWhole(await connect());
    factory.connectToShadowDb = async () => runScriptsWhole(await connectToShadowDb());
    return Promise.resolve(factory);
  },
});
