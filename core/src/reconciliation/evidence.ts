// Reconciliation evidence: a run's totals per currency and its discrepancies as CSV rows, read in
// batches (flat memory), quoted so a spreadsheet never runs a cell.
import type { Db, ReconciliationRun } from "@steward/db/client";
import { NotFoundError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import type { Totals } from "./compare.ts";

export const EXPORT_COLUMNS = [
  "record",
  "run_id",
  "period_start",
  "period_end",
  "run_status",
  "currency",
  "stripe_count",
  "stripe_amount_cents",
  "stripe_refunded_cents",
  "db_count",
  "db_amount_cents",
  "db_refunded_cents",
  "discrepancy_id",
  "kind",
  "stripe_charge_id",
  "payment_id",
  "charged_at",
  "stripe_amount",
  "db_amount",
  "stripe_currency",
  "db_currency",
  "stripe_status",
  "db_status",
  "resolution",
  "resolution_note",
  "resolved_by",
  "resolved_at",
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
export type ExportRow = Partial<Record<ExportColumn, string | number | null>>;

export interface RunEvidence {
  run: ReconciliationRun & { startedBy: { email: string } | null };
  stripeTotals: Totals;
  dbTotals: Totals;
}

export async function runEvidence(db: Db, runId: string): Promise<RunEvidence> {
  if (!isUuid(runId)) throw new NotFoundError("ReconciliationRun", runId);
  const run = await db.reconciliationRun.findUnique({
    where: { id: runId },
    include: { startedBy: { select: { email: true } } },
  });
  if (!run) throw new NotFoundError("ReconciliationRun", runId);
  return { run, stripeTotals: run.stripeTotals as unknown as Totals, dbTotals: run.dbTotals as unknown as Totals };
}

/** One row per currency (totals on both sides), then one per discrepancy, in batches (flat memory). */
export async function* exportRows(db: Db, evidence: RunEvidence, batchSize = 1_000): AsyncGenerator<ExportRow[]> {
  const { run } = evidence;
  const common = {
    run_id: run.id,
    period_start: run.periodStart.toISOString(),
    period_end: run.periodEnd.toISOString(),
    run_status: run.status,
  };
  const currencies = [...new Set([...Object.keys(evidence.stripeTotals), ...Object.keys(evidence.dbTotals)])].sort();
  yield currencies.map((currency) => {
    const stripe = evidence.stripeTotals[currency];
    const ours = evidence.dbTotals[currency];
    return {
      record: "totals",
      ...common,
      currency,
      stripe_count: stripe?.count ?? 0,
      stripe_amount_cents: stripe?.amountCents ?? 0,
      stripe_refunded_cents: stripe?.refundedCents ?? 0,
      db_count: ours?.count ?? 0,
      db_amount_cents: ours?.amountCents ?? 0,
      db_refunded_cents: ours?.refundedCents ?? 0,
    };
  });
  let cursor: string | undefined;
  for (;;) {
    const page = await db.discrepancy.findMany({
      where: { runId: run.id },
      orderBy: { id: "asc" },
      take: batchSize,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      include: { resolvedBy: { select: { email: true } } },
    });
    if (page.length === 0) return;
    yield page.map((d) => ({
      record: "discrepancy",
      ...common,
      discrepancy_id: d.id,
      kind: d.kind,
      stripe_charge_id: d.stripeChargeId,
      payment_id: d.paymentId,
      charged_at: d.chargedAt?.toISOString() ?? null,
      stripe_amount: d.stripeAmountCents,
      db_amount: d.dbAmountCents,
      stripe_currency: d.stripeCurrency,
      db_currency: d.dbCurrency,
      stripe_status: d.stripeStatus,
      db_status: d.dbStatus,
      resolution: d.resolution,
      resolution_note: d.resolutionNote,
      resolved_by: d.resolvedBy?.email ?? null,
      resolved_at: d.resolvedAt?.toISOString() ?? null,
    }));
    cursor = page[page.length - 1]?.id;
  }
}

/** RFC 4180 quoting; a cell starting with = + - @ is prefixed with ' so spreadsheets never run it. */
export function csvLine(values: readonly (string | number | null | undefined)[]): string {
  return `${values
    .map((value) => {
      if (value === null || value === undefined) return "";
      if (typeof value === "number") return String(value);
      const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
      return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
    })
    .join(",")}\r\n`;
}

export function csvRow(row: ExportRow): string {
  return csvLine(EXPORT_COLUMNS.map((column) => row[column]));
}
