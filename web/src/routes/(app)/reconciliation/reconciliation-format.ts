// How the Reconciliation page words kinds, fixes and amounts. Pure, so it is easy to read and test.
import { formatDateTime } from "$lib/format.ts";
import type { DiscrepancyKind, FixAction, Run } from "./reconciliation-operations.ts";

export const kindLabels: Record<DiscrepancyKind, string> = {
  MISSING_IN_DB: "Missing in our records",
  MISSING_IN_STRIPE: "Missing at Stripe",
  AMOUNT_MISMATCH: "Amount differs",
  CURRENCY_MISMATCH: "Currency differs",
  REFUND_MISMATCH: "Refund differs",
};

export const kindHelp: Record<DiscrepancyKind, string> = {
  MISSING_IN_DB: "Stripe has a succeeded charge we never recorded (a missed webhook).",
  MISSING_IN_STRIPE: "We recorded a charge Stripe does not have, or has as failed.",
  AMOUNT_MISMATCH: "Both sides have the charge with different amounts.",
  CURRENCY_MISMATCH: "Both sides have the charge in different currencies.",
  REFUND_MISMATCH: "Refunded on one side and not the other.",
};

export const fixLabels: Record<FixAction, string> = {
  IMPORT: "Import charge",
  MARK_FAILED: "Mark ours failed",
  MARK_REFUNDED: "Mark ours refunded",
  ACCEPT: "Accept…",
};

export const resolutionLabels = {
  IMPORTED: "Imported",
  MARKED_FAILED: "Marked failed",
  MARKED_REFUNDED: "Marked refunded",
  ACCEPTED: "Accepted",
} as const;

/** "AUD 22.00" from minor units. */
export function money(cents: number | null | undefined, currency: string | null | undefined): string {
  if (cents === null || cents === undefined || !currency) return "—";
  const format = new Intl.NumberFormat("en-AU", {
    style: "currency",
    currency: currency.toUpperCase(),
    currencyDisplay: "code",
  });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(cents / 10 ** digits).replace(/\u00a0/g, " ");
}

/** What the status column says about a run. */
export function runState(run: Run): { label: string; tone: "succeeded" | "failed" | "running" } {
  if (run.status === "RUNNING") return { label: "Running", tone: "running" };
  if (run.status === "FAILED") return { label: "Failed", tone: "failed" };
  if (run.clean) return { label: "Clean", tone: "succeeded" };
  return { label: `${run.openDiscrepancyCount} open`, tone: "failed" };
}

/** "15 Jan 2026, 11:00 am AEDT – 16 Jan 2026, 11:00 am AEDT": the run's period on the marketplace's clock. */
export function formatPeriod(run: Pick<Run, "periodStart" | "periodEnd">): string {
  return `${formatDateTime(run.periodStart)} – ${formatDateTime(run.periodEnd)}`;
}
