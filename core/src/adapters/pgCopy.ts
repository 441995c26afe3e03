// The bulk-load port over node-postgres and pg-copy-streams: one new connection per load, to
// the database the process's Prisma client uses.
import { databaseConnectionOptions } from "@steward/db/client";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { CopyIn, CopyInConnection } from "../ports/copyIn.ts";

export function pgCopyIn(databaseUrl: string): CopyIn {
  return {
    async connect(): Promise<CopyInConnection> {
      const client = new pg.Client(databaseConnectionOptions(databaseUrl));
      const listeners: ((error: Error) => void)[] = [];
      // Always listened to: an unheard 'error' would crash the process; the next call fails anyway.
      client.on("error", (error) => {
        for (const listener of listeners) listener(error);
      });
      await client.connect();
      return {
        async query<Row extends Record<string, unknown>>(text: string, values?: unknown[]) {
          const { rows, rowCount } = await client.query<Row>(text, values);
          return { rows, rowCount };
        },
        copyIn: (statement) => client.query(copyFrom(statement)),
        onError: (listener) => {
          listeners.push(listener);
        },
        end: () => client.end(),
      };
    },
  };
}
