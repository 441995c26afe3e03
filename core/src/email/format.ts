// How dates, amounts and elapsed days read in emails and in error messages shown to operators.
// Money is integer minor units with a currency; dates are shown in the marketplace's time zone.

const DAY_MS = 86_400_000;

/** "20 Nov 2026" in the given time zone. */
export function formatDate(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-AU", { day: "numeric", month: "short", year: "numeric", timeZone }).format(date);
}

/** "AUD 22.00" from 2200 minor units (respects currencies without decimals, e.g. JPY). */
export function formatMoney(minorUnits: number, currency: string): string {
  const code = currency.toUpperCase();
  const format = new Intl.NumberFormat("en-AU", { style: "currency", currency: code, currencyDisplay: "code" });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minorUnits / 10 ** digits).replace(/\u00a0/g, " ");
}

/** Whole days elapsed, rounded down (71 h → 2 days). */
export function wholeDaysBetween(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / DAY_MS));
}

/** "less than a day ago", "1 day ago", "5 days ago". */
export function daysAgo(days: number): string {
  if (days <= 0) return "less than a day ago";
  return days === 1 ? "1 day ago" : `${days} days ago`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
