// Calendar days in the marketplace's time zone, as "YYYY-MM-DD" strings. Metrics bucket by the
// marketplace's day (a sale at 23:30 in Melbourne belongs to that Melbourne day, not to UTC's).
// Arithmetic on the strings is done in UTC, where every day has 24 hours.

/** A calendar day, "YYYY-MM-DD". */
export type Day = string;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day `instant` falls on in `timeZone`. */
export function dayIn(instant: Date, timeZone: string): Day {
  let format = formatters.get(timeZone);
  if (!format) {
    // en-CA formats as YYYY-MM-DD.
    format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    formatters.set(timeZone, format);
  }
  return format.format(instant);
}

function toUtc(day: Day): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

function fromUtc(date: Date): Day {
  return date.toISOString().slice(0, 10);
}

export function addDays(day: Day, days: number): Day {
  const date = toUtc(day);
  date.setUTCDate(date.getUTCDate() + days);
  return fromUtc(date);
}

/** Whole days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: Day, to: Day): number {
  return Math.round((toUtc(to).getTime() - toUtc(from).getTime()) / 86_400_000);
}

/** ISO weekday: Monday 1 … Sunday 7. */
export function isoWeekday(day: Day): number {
  const weekday = toUtc(day).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

export function dayOfMonth(day: Day): number {
  return toUtc(day).getUTCDate();
}

export function daysInMonth(day: Day): number {
  const date = toUtc(day);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

export function startOfMonth(day: Day): Day {
  return `${day.slice(0, 7)}-01`;
}

/** The first day of the month before `day`'s month. */
export function startOfPreviousMonth(day: Day): Day {
  const date = toUtc(startOfMonth(day));
  date.setUTCMonth(date.getUTCMonth() - 1);
  return fromUtc(date);
}

/** Monday of `day`'s week (weeks start on Monday). */
export function startOfWeek(day: Day): Day {
  return addDays(day, 1 - isoWeekday(day));
}

/** Every day from `from` to `to`, both included. */
export function daysFrom(from: Day, to: Day): Day[] {
  const days: Day[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}
