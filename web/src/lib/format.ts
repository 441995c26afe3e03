// Every date, time and count the dashboard shows, written one way: in the marketplace's time zone
// and locale (MARKETPLACE_TIME_ZONE, MARKETPLACE_LOCALE), which the root layout reads from the
// API's `marketplace` query before any page renders (setMarketplace). The browser's own zone and
// language never matter: an operator travelling sees the marketplace's clock, with its zone named.
//
// Times come from the API as ISO-8601 UTC strings; each formatter also takes epoch milliseconds or a
// Date, and says "—" (or "") for nothing. `now` is passed in where it matters so pages can tick and
// tests can pin it.

export interface MarketplaceSettings {
  /** IANA zone, e.g. Australia/Melbourne. */
  timeZone: string;
  /** BCP 47 locale, e.g. en-AU. */
  locale: string;
}

export type Instant = string | number | Date | null | undefined;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The API's defaults, used until the marketplace's own settings arrive (and if they are unusable). */
export const DEFAULT_MARKETPLACE: MarketplaceSettings = { timeZone: "Australia/Melbourne", locale: "en-AU" };

const DATE: Intl.DateTimeFormatOptions = { day: "numeric", month: "short", year: "numeric" };
const TIME: Intl.DateTimeFormatOptions = { hour: "numeric", minute: "2-digit" };

function formatsFor({ timeZone, locale }: MarketplaceSettings) {
  return {
    settings: { timeZone, locale },
    /** "16 Jan 2026, 9:30 am AEDT" */
    dateTime: new Intl.DateTimeFormat(locale, { ...DATE, ...TIME, timeZone, timeZoneName: "short" }),
    /** "16 Jan 2026" */
    date: new Intl.DateTimeFormat(locale, { ...DATE, timeZone }),
    /** "9:30 am" */
    time: new Intl.DateTimeFormat(locale, { ...TIME, timeZone }),
    relative: new Intl.RelativeTimeFormat(locale, { numeric: "auto" }),
    number: new Intl.NumberFormat(locale),
    /** Wall-clock fields in the zone, for converting to and from <input> values. */
    fields: new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    }),
  };
}

let formats = formatsFor(DEFAULT_MARKETPLACE);

/**
 * Sets the zone and locale every formatter uses (the root layout, from the API). A zone or locale
 * this browser does not know keeps the default for that part rather than breaking every page.
 */
export function setMarketplace(next: MarketplaceSettings): void {
  let timeZone = DEFAULT_MARKETPLACE.timeZone;
  let locale = DEFAULT_MARKETPLACE.locale;
  try {
    new Intl.DateTimeFormat("en", { timeZone: next.timeZone });
    timeZone = next.timeZone;
  } catch {
    // Unknown to this browser's ICU data: stay on the default zone.
  }
  try {
    if (Intl.DateTimeFormat.supportedLocalesOf(next.locale).length > 0) locale = next.locale;
  } catch {
    // Not a well-formed locale: stay on the default.
  }
  formats = formatsFor({ timeZone, locale });
}

/** The zone and locale in use. */
export function marketplace(): MarketplaceSettings {
  return formats.settings;
}

function parse(value: Instant): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * "16 Jan 2026, 9:30 am AEDT": an instant on the marketplace's clock, with the zone named. Give
 * `timeZone` to show it on another zone's clock (a job scheduled in UTC), still in the marketplace's
 * locale and format.
 */
export function formatDateTime(value: Instant, timeZone?: string | null): string {
  const date = parse(value);
  if (!date) return typeof value === "string" && value !== "" ? value : "—";
  if (!timeZone || timeZone === formats.settings.timeZone) return formats.dateTime.format(date);
  const key = `${formats.settings.locale} ${timeZone}`;
  let format = zoneFormats.get(key);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(formats.settings.locale, {
        ...DATE,
        ...TIME,
        timeZone,
        timeZoneName: "short",
      });
    } catch {
      format = formats.dateTime;
    }
    zoneFormats.set(key, format);
  }
  return format.format(date);
}

/** "16 Jan 2026": the marketplace's calendar day of the instant. */
export function formatDate(value: Instant): string {
  const date = parse(value);
  return date ? formats.date.format(date) : "—";
}

/** "9:30 am" on the marketplace's clock (chart axes; the page names the zone elsewhere). */
export function formatTime(value: Instant): string {
  const date = parse(value);
  return date ? formats.time.format(date) : "—";
}

/** "in 10 days", "tomorrow", "today", "2 days ago" (whole days, rounded: 9.8 days ahead is "in 10 days"). */
export function formatRelativeDays(value: Instant, now: number): string {
  const date = parse(value);
  return date ? formats.relative.format(Math.round((date.getTime() - now) / DAY_MS), "day") : "";
}

/** The closest sensible unit: "in 40 seconds", "in 3 hours", "5 minutes ago", "in 2 days". */
export function formatRelativeTime(value: Instant, now: number): string {
  const date = parse(value);
  if (!date) return "";
  const diff = date.getTime() - now;
  const size = Math.abs(diff);
  if (size < MINUTE_MS) return formats.relative.format(Math.round(diff / 1000), "second");
  if (size < HOUR_MS) return formats.relative.format(Math.round(diff / MINUTE_MS), "minute");
  if (size < DAY_MS) return formats.relative.format(Math.round(diff / HOUR_MS), "hour");
  return formats.relative.format(Math.round(diff / DAY_MS), "day");
}

/** Whether the instant reads the same on two zones' clocks (so the second need not be shown). */
export function sameWallClock(value: Instant, zoneA: string, zoneB: string): boolean {
  const date = parse(value);
  if (zoneA === zoneB || !date) return true;
  const read = (timeZone: string) => {
    try {
      return new Intl.DateTimeFormat("en-US", { ...DATE, ...TIME, timeZone }).format(date);
    } catch {
      return timeZone;
    }
  };
  return read(zoneA) === read(zoneB);
}

/** "1,234" in the marketplace's locale. */
export function formatNumber(value: number): string {
  return formats.number.format(value);
}

// ───────────────────────────── Form inputs ─────────────────────────────
// <input type="date"> and <input type="datetime-local"> hold a wall-clock time with no zone: the
// dashboard reads and writes them as the marketplace's wall clock, not the browser's.

/** The marketplace's wall clock at an instant: [year, month (1–12), day, hour, minute, second]. */
function wallClock(date: Date): number[] {
  const parts = formats.fields.formatToParts(date);
  const field = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value);
  return [field("year"), field("month"), field("day"), field("hour"), field("minute"), field("second")];
}

/** How far the marketplace's clock is ahead of UTC at an instant, in milliseconds. */
function offsetAt(epochMs: number): number {
  const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = wallClock(new Date(epochMs));
  return Date.UTC(year, month - 1, day, hour, minute, second) - Math.floor(epochMs / 1000) * 1000;
}

/** The instant the marketplace's clock shows these fields (the later one in a DST fold). */
function instantOf(year: number, month: number, day: number, hour: number, minute: number): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const first = asUtc - offsetAt(asUtc);
  return new Date(asUtc - offsetAt(first));
}

const pad = (value: number | undefined) => String(value ?? 0).padStart(2, "0");

/** A datetime-local value ("2026-01-16T09:30") for an instant, on the marketplace's clock. */
export function toWallClockInput(value: Instant): string {
  const date = parse(value);
  if (!date) return "";
  const [year, month, day, hour, minute] = wallClock(date);
  return `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}`;
}

/** The ISO instant a datetime-local value ("2026-01-16T09:30") means on the marketplace's clock. */
export function fromWallClockInput(local: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!match) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  const date = instantOf(year, month, day, hour, minute);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A date value ("2026-01-16") as the ISO instant of the marketplace's midnight that day. */
export function dayStart(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  return fromWallClockInput(`${value}T00:00`);
}

// ───────────────────────────── Other words ─────────────────────────────

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

const roleLabels = { ADMIN: "Admin", OPERATOR: "Operator", VIEWER: "Viewer" } as const;

export function formatRole(role: keyof typeof roleLabels): string {
  return roleLabels[role];
}
