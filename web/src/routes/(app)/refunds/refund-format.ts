// How the Refunds page words amounts, ages and deadlines. Pure, so it is easy to read and test.
import type { RefundRequest, RefundStatus } from "./refund-operations.ts";

export const statusLabels: Record<RefundStatus, string> = {
  PENDING: "Pending",
  PROCESSING: "Processing",
  APPROVED: "Refunded",
  DENIED: "Denied",
  FAILED: "Failed",
};

export const statusChoices: RefundStatus[] = ["PENDING", "PROCESSING", "APPROVED", "DENIED", "FAILED"];

/** "AUD 22.00" from minor units. */
export function formatAmount(cents: number, currency: string): string {
  const code = currency.toUpperCase();
  const format = new Intl.NumberFormat("en-AU", { style: "currency", currency: code, currencyDisplay: "code" });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(cents / 10 ** digits).replace(/\u00a0/g, " ");
}

export function formatDaysElapsed(days: number): string {
  if (days <= 0) return "less than a day";
  return days === 1 ? "1 day" : `${days} days`;
}

/** What the deadline column says: time left, or that the window has closed. */
export function deadlineText(request: RefundRequest): string {
  if (!request.eligibility.eligible) return "Past the 3-day window";
  const hours = request.eligibility.hoursLeft;
  if (hours < 1) return "Less than 1 hour left";
  return `${Math.floor(hours)} h left`;
}

export const DEFAULT_DENIAL = "Refunds are only available within 3 days of purchase.";
