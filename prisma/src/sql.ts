// Hand-written SQL beside Prisma, for the few hot reads where Prisma's per-query cost is most of the
// request (issue 17: a 50-row page through Prisma's query compiler costs ~2 ms of CPU, the same
// statement through `pg` ~0.3 ms). The statements go through the same pool as Prisma's queries
// (prisma/src/client.ts), so the pool size, the statement counter in the tests and the database
// p95 signal see them too. Everything else stays Prisma: writes, migrations, the long tail of reads.
import pg from "pg";

/**
 * Runs one parameterised statement and returns its rows. A `name` prepares the statement once per
 * connection and reuses its plan: for a statement read on every request whose planning costs more
 * than its execution (the overview's, ~4 ms to plan). The same name must always carry the same text.
 */
export interface SqlReader {
  rows<Row>(text: string, values: readonly unknown[], name?: string): Promise<Row[]>;
}

// Prisma's DateTime columns are `timestamp(3)` holding UTC; `pg` would read them as local time.
// Set per statement, not on pg's global parsers, so Prisma's own adapter is left alone.
const parsers = new pg.TypeOverrides();
parsers.setTypeParser(pg.types.builtins.TIMESTAMP, (value) => new Date(`${value.replace(" ", "T")}Z`));

/** A reader on a `pg` pool; `onQuery` gets each statement's duration in ms. */
export function pgSqlReader(pool: pg.Pool, onQuery?: (durationMs: number) => void): SqlReader {
  return {
    async rows<Row>(text: string, values: readonly unknown[], name?: string): Promise<Row[]> {
      const started = performance.now();
      const result = await pool.query({ text, values: [...values], types: parsers, ...(name ? { name } : {}) });
      onQuery?.(performance.now() - started);
      return result.rows as Row[];
    },
  };
}

/** The same statements through Prisma's raw queries (a transaction's too): no pool of its own; slower. */
export function prismaSqlReader(db: {
  $queryRawUnsafe<T>(query: string, ...values: unknown[]): Promise<T>;
}): SqlReader {
  return { rows: <Row>(text: string, values: readonly unknown[]) => db.$queryRawUnsafe<Row[]>(text, ...values) };
}

/** The timestamp columns of a row read as JSON (`to_jsonb`) come as text: `2026-12-06T07:00:00.123`, UTC. */
export function jsonTimestamp(value: unknown): Date | null {
  return typeof value === "string" ? new Date(`${value}Z`) : null;
}
