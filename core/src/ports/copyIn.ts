// The bulk-load port: a connection of its own to the database, for loading many rows at once
// with COPY … FROM STDIN (the catalog import and reconciliation's staging). Prisma cannot COPY,
// and preparing one statement per row costs more than the rest of the work. The implementation
// is core/src/adapters/pgCopy.ts.
import type { Writable } from "node:stream";

export interface CopyInConnection {
  query<Row extends Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Row[]; rowCount: number | null }>;
  /**
   * Starts `statement` (a COPY … FROM STDIN): write rows in COPY's text format and end the
   * stream; it finishes once PostgreSQL has stored them, and errors if it refused them.
   */
  copyIn(statement: string): Writable;
  /** A failure of the connection outside any call (the server went away mid-COPY, say). */
  onError(listener: (error: Error) => void): void;
  /** Closes the connection; an open transaction (and its COPY) is rolled back. */
  end(): Promise<void>;
}

export interface CopyIn {
  connect(): Promise<CopyInConnection>;
}
