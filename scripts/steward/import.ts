// `npm run steward -- import <file.csv|file.ndjson> [--skip-invalid]`: a marketplace's whole
// catalog of businesses in one go, through core's importCatalog (the GraphQL importCatalog's
// code). Every line is checked; with any bad line nothing is stored unless --skip-invalid.
// Exit codes: 0 stored, 1 rejected (bad lines listed), 2 usage.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { systemActor } from "@steward/core/actor";
import { pgCopyIn } from "@steward/core/adapters/pgCopy";
import {
  CATALOG_IMPORT_MAX_ROWS,
  CatalogImportRejectedError,
  type CatalogImportReport,
  importCatalog,
} from "@steward/core/catalog";
import { formatOfPath, readCatalogFile } from "@steward/core/catalogFile";
import { loadEnv } from "@steward/core/env";
import { createPrismaClient } from "@steward/db/client";
import { createBullJobQueues } from "@steward/jobs/bullmq";

const USAGE = "Usage: npm run steward -- import <file.csv|file.ndjson> [--skip-invalid]";

/** Lines in the file (newlines counted), for the progress bar's total; stops counting past the cap. */
async function countLines(path: string, cap: number): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    last = chunk[chunk.length - 1] ?? 10;
    if (lines > cap) break;
  }
  return last === 10 ? lines : lines + 1;
}

/** A one-line bar on a terminal (redrawn in place); a line every 10% elsewhere (CI logs). */
function progressBar(label: string, total: number): { update(done: number): void; finish(): void } {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  const draw = (done: number): void => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    if (tty) {
      const width = 30;
      const filled = Math.round(ratio * width);
      process.stderr.write(
        `\r${label.padEnd(10)} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${done.toLocaleString("en")}/${total.toLocaleString("en")}`,
      );
    } else if (Math.floor(ratio * 10) > lastTenth) {
      lastTenth = Math.floor(ratio * 10);
      process.stderr.write(`${label} ${Math.round(ratio * 100)}% (${done}/${total})\n`);
    }
  };
  return {
    update: draw,
    finish() {
      draw(total);
      if (tty) process.stderr.write("\n");
    },
  };
}

function printErrors(report: CatalogImportReport): void {
  for (const error of report.errors)
    console.error(`  line ${error.line}${error.externalId ? ` (${error.externalId})` : ""}: ${error.reason}`);
  if (report.errorCount > report.errors.length)
    console.error(`  … and ${report.errorCount - report.errors.length} more`);
}

export const summary =
  "Import the marketplace's businesses from a CSV or NDJSON file (--skip-invalid to store the valid rows of a file with errors)";

export async function run(args: readonly string[]): Promise<number> {
  const skipInvalid = args.includes("--skip-invalid");
  const paths = args.filter((arg) => !arg.startsWith("--"));
  const unknown = args.filter((arg) => arg.startsWith("--") && arg !== "--skip-invalid");
  const path = paths[0];
  if (!path || paths.length > 1 || unknown.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const format = formatOfPath(path);
  if (!format) {
    console.error(`${path}: the file name must end in .csv or .ndjson (or .jsonl)`);
    return 2;
  }
  if (!(await stat(path).catch(() => null))?.isFile()) {
    console.error(`${path}: no such file`);
    return 2;
  }
  const env = loadEnv();
  const db = createPrismaClient(env.DATABASE_URL, 2);
  try {
    const lines = await countLines(path, CATALOG_IMPORT_MAX_ROWS + 1);
    const rows = Math.max(0, format === "csv" ? lines - 1 : lines);
    const reading = progressBar("checking", Math.min(rows, CATALOG_IMPORT_MAX_ROWS));
    let storing: ReturnType<typeof progressBar> | null = null;
    let report: CatalogImportReport;
    try {
      report = await importCatalog(
        { db, copyIn: pgCopyIn(env.DATABASE_URL) },
        systemActor("steward import"),
        readCatalogFile(path, format),
        {
          skipInvalid,
          onProgress: ({ phase, done }) => {
            if (phase === "validate") return reading.update(done);
            if (!storing) {
              reading.finish();
              storing = progressBar("storing", rows);
            }
            storing.update(done);
          },
        },
      );
    } catch (error) {
      if (!(error instanceof CatalogImportRejectedError)) throw error;
      reading.finish();
      console.error(`${path}: ${error.report.errorCount} bad line(s); nothing was stored.`);
      printErrors(error.report);
      console.error("Fix them and import again, or add --skip-invalid to store the valid rows.");
      return 1;
    }
    (storing as ReturnType<typeof progressBar> | null)?.finish();
    if (report.errorCount > 0) {
      console.error(`Skipped ${report.errorCount} bad line(s):`);
      printErrors(report);
    }
    console.log(
      `Imported ${report.valid} business(es) in ${(report.durationMs / 1000).toFixed(1)} s: ${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged${report.skipped ? `, ${report.skipped} skipped` : ""}.`,
    );
    if (report.releasedEventIds.length > 0) {
      // Charges that waited for these businesses: queued for the worker (or found by its sweep).
      const queues = createBullJobQueues({ redisUrl: env.REDIS_URL, prefix: env.REDIS_PREFIX });
      await queues
        .enqueueMany(
          "stripe-event",
          report.releasedEventIds.map((eventId) => ({ eventId, released: true })),
        )
        .catch((error: unknown) =>
          console.error(`Could not queue the held charges now (${String(error)}); the worker's sweep will.`),
        )
        .finally(() => queues.close());
      console.log(`${report.releasedEventIds.length} held charge(s) for these businesses queued for processing.`);
    }
    return 0;
  } finally {
    await db.$disconnect();
  }
}
