// Calendar dates and relative times as the dashboard says them ("3 Dec 2025", "in 10 days"), and
// instants shown in a named time zone (a job's schedule zone, e.g. Australia/Melbourne). Always in
// the browser's locale; `now` is passed in so a page can tick and tests can pin it.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "3 Dec 2025" in the browser's locale and time zone. */
export function formatDate(iso: string | null | undefined): string {
  const date = parse(iso);
  return date ? dateFormat.format(date) : "—";
}

/** "in 10 days", "tomorrow", "today", "2 days ago" (whole days, rounded: 9.8 days ahead is "in 10 days"). */
export function formatRelativeDays(iso: string | null | undefined, now: number): string {
  const date = parse(iso);
  return date ? relative.format(Math.round((date.getTime() - now) / DAY_MS), "day") : "";
}

/** The closest sensible unit: "in 40 seconds", "in 3 hours", "5 minutes ago", "in 2 days". */
export function formatRelativeTime(iso: string | null | undefined, now: number): string {
  const date = parse(iso);
  if (!date) return "";
  const diff = date.getTime() - now;
  const size = Math.abs(diff);
  if (size < MINUTE_MS) return relative.format(Math.round(diff / 1000), "second");
  if (size < HOUR_MS) return relative.format(Math.round(diff / MINUTE_MS), "minute");
  if (size < DAY_MS) return relative.format(Math.round(diff / HOUR_MS), "hour");
  return relative.format(Math.round(diff / DAY_MS), "day");
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

function zoneFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? "";
  let format = zoneFormats.get(key);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(undefined, {
        weekday: "short",
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        ...(timeZone ? { timeZone } : {}),
      });
    } catch {
      // An unknown zone name: fall back to the browser's zone rather than break the page.
      format = zoneFormat(undefined);
    }
    zoneFormats.set(key, format);
  }
  return format;
}

/** The instant as a wall-clock time in `timeZone` (the browser's zone when omitted), e.g. "Wed, 26 Nov 2025, 02:00:00". */
export function formatInZone(iso: string | null | undefined, timeZone?: string | null): string {
  const date = parse(iso);
  return date ? zoneFormat(timeZone ?? undefined).format(date) : "—";
}

/** The browser's IANA time zone, e.g. "Europe/Berlin". */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Whether two zone names show the same wall-clock time for `iso` (so the second need not be shown). */
export function sameWallClock(iso: string, zoneA: string, zoneB: string): boolean {
  return zoneA === zoneB || formatInZone(iso, zoneA) === formatInZone(iso, zoneB);
}
