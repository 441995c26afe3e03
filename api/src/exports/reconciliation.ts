// GET /exports/reconciliation/<run id>.csv|.json: a run's evidence (period, totals per currency,
// every discrepancy with who resolved it and when), for the 7-year audit trail. Authenticated
// like the API: a session cookie (the dashboard's download link) or a bearer token with `read`.
// Rows stream from the database in batches, so a large run never sits in memory.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Actor } from "@steward/core/actor";
import { NotFoundError } from "@steward/core/errors";
import type { Logger } from "@steward/core/logger";
import { roleCan, tokenHasScope } from "@steward/core/permissions";
import { csvLine, csvRow, EXPORT_COLUMNS, exportRows, runEvidence } from "@steward/core/reconciliation/evidence";
import type { Db } from "@steward/db/client";
import { authenticate, InvalidCredentialsPresented } from "../authenticate.ts";
import type { CredentialLookup } from "../sessionCache.ts";

export const EXPORT_PATH = /^\/exports\/reconciliation\/([0-9a-f-]{36})\.(csv|json)$/i;

function mayRead(actor: Actor): boolean {
  return (actor.kind === "OPERATOR" && roleCan(actor.role, "read")) || tokenHasScope(actor, "read");
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: message }));
}

/** Writes and waits for the socket to drain when it is full (back-pressure). */
async function write(res: ServerResponse, chunk: string): Promise<void> {
  if (!res.write(chunk)) await new Promise<void>((resolve) => res.once("drain", resolve));
}

export function createReconciliationExportHandler(deps: { db: Db; credentials: CredentialLookup; logger: Logger }) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.method !== "GET") return refuse(res, 405, "Use GET");
    const match = EXPORT_PATH.exec(path);
    if (!match) return refuse(res, 404, "Unknown export");
    const [, runId = "", format] = match;
    let actor: Actor;
    try {
      actor = await authenticate(deps.credentials, {
        cookieHeader: req.headers.cookie,
        authorizationHeader: req.headers.authorization,
      });
    } catch (error) {
      if (error instanceof InvalidCredentialsPresented) return refuse(res, 401, error.message);
      throw error;
    }
    if (actor.kind === "ANONYMOUS") return refuse(res, 401, "Sign in, or send a valid API token");
    if (!mayRead(actor)) return refuse(res, 403, "You are not allowed to read reconciliation evidence");
    let evidence;
    try {
      evidence = await runEvidence(deps.db, runId.toLowerCase());
    } catch (error) {
      if (error instanceof NotFoundError) return refuse(res, 404, error.message);
      throw error;
    }
    const { run } = evidence;
    const day = run.periodEnd.toISOString().slice(0, 10);
    const filename = `payment-reconciliation-${day}-${run.id}.${format}`;
    res.writeHead(200, {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
    });
    try {
      if (format === "csv") {
        await write(res, csvLine(EXPORT_COLUMNS));
        for await (const rows of exportRows(deps.db, evidence)) await write(res, rows.map(csvRow).join(""));
      } else {
        await write(
          res,
          `{"run":${JSON.stringify({
            id: run.id,
            periodStart: run.periodStart,
            periodEnd: run.periodEnd,
            status: run.status,
            trigger: run.trigger,
            startedBy: run.startedBy?.email ?? null,
            startedAt: run.startedAt,
            finishedAt: run.finishedAt,
            chargesCompared: run.chargesCompared,
            inFlightCount: run.inFlightCount,
            error: run.error,
          })},"stripeTotals":${JSON.stringify(evidence.stripeTotals)},"dbTotals":${JSON.stringify(evidence.dbTotals)},"discrepancies":[`,
        );
        let first = true;
        for await (const rows of exportRows(deps.db, evidence)) {
          for (const row of rows) {
            if (row.record !== "discrepancy") continue;
            await write(res, `${first ? "" : ","}${JSON.stringify(row)}`);
            first = false;
          }
        }
        await write(res, "]}");
      }
      res.end();
    } catch (error) {
      deps.logger.error({ err: error, runId }, "reconciliation export failed mid-stream");
      res.destroy(error instanceof Error ? error : undefined);
    }
  };
}
