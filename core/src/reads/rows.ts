// Rows of hand-written statements shaped as Prisma returns them, so the GraphQL layer (Pothos'
// Prisma plugin) cannot tell them apart: related rows come whole (`to_jsonb`), their timestamps
// turned back into Dates, and an operator never carries their password hash. The equivalence tests
// (tests/integration/hot-reads.test.ts) compare every row with Prisma's, so a new column fails there.
import { jsonTimestamp } from "@steward/db/sql";

/** Which columns of a table read through `to_jsonb` are timestamps. */
export const TIMESTAMP_COLUMNS = {
  Business: ["createdAt", "archivedAt", "flaggedAt"],
  Region: ["createdAt"],
  Operator: ["createdAt", "disabledAt"],
  ReviewScore: ["createdAt"],
  ReviewDecision: ["createdAt"],
  Payment: ["purchasedAt", "createdAt", "updatedAt", "heldAt", "holdResolvedAt"],
  Alert: ["firstSeenAt", "lastSeenAt", "acknowledgedAt", "silencedUntil", "resolvedAt"],
  HealthCheckResult: ["checkedAt"],
  CheckupReport: ["createdAt"],
} as const satisfies Record<string, readonly string[]>;

export type JsonRow = Record<string, unknown>;

/** A related row read as JSON, its timestamps turned into Dates in place (the row is the statement's own). */
export function fromJson<T>(row: unknown, table: keyof typeof TIMESTAMP_COLUMNS): T {
  const columns = row as JsonRow;
  for (const column of TIMESTAMP_COLUMNS[table])
    if (column in columns) columns[column] = jsonTimestamp(columns[column]);
  return columns as T;
}

/** `to_jsonb` of an operator, without what only sign-in may read. */
export const operatorJson = (alias: string): string =>
  `CASE WHEN ${alias}.id IS NULL THEN NULL ELSE to_jsonb(${alias}) - 'passwordHash' END`;

/** Positional parameters for a statement built in pieces: `add(value)` returns its `$n`. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

/** The part of Pothos' connection query a hand-written page honours. */
export interface PageWindow {
  cursor?: { id?: string };
  skip?: number;
  /** Rows to return, one more than asked to know whether there is a next page; negative backwards. */
  take?: number;
}

/** A forward page (the only kind the dashboard and integrations ask for); anything else stays Prisma's. */
export function forwardWindow(query: PageWindow): { take: number; after: string | null } | null {
  const take = query.take ?? 0;
  if (take <= 0) return null;
  const after = query.cursor?.id ?? null;
  // Pothos skips the cursor row itself (skip: 1); a keyset after the cursor does the same.
  if ((query.skip ?? 0) !== (after ? 1 : 0)) return null;
  return { take, after };
}

/** Which relations a Pothos query asks to load (include or select mode). */
export function requested(query: { include?: object | null; select?: object | null }, relation: string): boolean {
  const wanted = (query.include ?? query.select ?? {}) as Record<string, unknown>;
  return Boolean(wanted[relation]);
}

/**
 * The columns of a related row that a Pothos query selects (`{ select: { amountCents: true } }`),
 * or null when it wants the whole row (`true`, an include, or a nested relation).
 */
export function selectedColumns(
  query: { include?: object | null; select?: object | null },
  relation: string,
): string[] | null {
  const spec = ((query.include ?? query.select ?? {}) as Record<string, unknown>)[relation];
  if (typeof spec !== "object" || spec === null || !("select" in spec)) return null;
  const select = spec.select;
  if (typeof select !== "object" || select === null) return null;
  const entries = Object.entries(select);
  // Scalar columns only, named as the schema names them: anything else reads the whole row.
  if (entries.length === 0 || entries.some(([column, on]) => on !== true || !/^[A-Za-z_]\w*$/.test(column)))
    return null;
  return entries.map(([column]) => column);
}

/** A related row as JSON: only `columns` when given (less to build, send and parse), else the whole row. */
export function relationJson(alias: string, columns: readonly string[] | null): string {
  if (!columns) return `to_jsonb(${alias})`;
  return `json_build_object(${columns.map((column) => `'${column}', ${alias}."${column}"`).join(", ")})`;
}
