// How the overview words money, rates, trends and work time. Pure.
import type { HealthState, Severity } from "./overview-operations.ts";

/** "AUD 1,234" from minor units (whole units: the overview is for trends, not cents). */
export function formatMoney(cents: number, currency: string): string {
  const format = new Intl.NumberFormat("en-AU", {
    style: "currency",
    currency: currency.toUpperCase(),
    currencyDisplay: "code",
    maximumFractionDigits: 2,
    minimumFractionDigits: 2,
  });
  return format.format(cents / 100).replace(/\u00a0/g, " ");
}

/** One decimal, as the refund-rate alert words it ("22.2 %"), so a card and its alert agree. */
export function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

/** "↑ 12 %" / "↓ 5 %" / "no earlier data". */
export function formatChange(change: number | null | undefined): string {
  if (change === null || change === undefined) return "no earlier data";
  if (Math.abs(change) < 0.005) return "→ 0 %";
  return `${change > 0 ? "↑" : "↓"} ${Math.round(Math.abs(change) * 100)} %`;
}

export function changeClass(change: number | null | undefined): string {
  if (change === null || change === undefined || Math.abs(change) < 0.005) return "flat";
  return change > 0 ? "up" : "down";
}

/** "1 h 30 min" / "25 min" / "—". */
export function formatWork(minutes: number): string {
  if (minutes <= 0) return "—";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

export const severityLabels: Record<Severity, string> = { RED: "Red", YELLOW: "Yellow", GREEN: "Green" };

export const healthLabels: Record<HealthState, string> = {
  OK: "healthy",
  FAILING: "failing",
  UNKNOWN: "unknown",
  CHECKING: "checking…",
};
