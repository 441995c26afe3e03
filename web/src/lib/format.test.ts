// The dashboard writes every date on the marketplace's clock and in its locale, whatever the
// machine's own zone: these run with TZ as the test machine has it, and check against instants
// whose Melbourne, Paris and UTC readings differ in day and hour.
import { afterEach, describe, expect, it } from "vitest";
import {
  dayStart,
  DEFAULT_MARKETPLACE,
  formatDate,
  formatDateTime,
  formatNumber,
  formatRelativeDays,
  formatTime,
  fromWallClockInput,
  marketplace,
  sameWallClock,
  setMarketplace,
  toWallClockInput,
} from "./format.ts";

// 22:30 UTC on 15 January: 09:30 on the 16th in Melbourne (AEDT, UTC+11), 23:30 on the 15th in Paris.
const INSTANT = "2026-01-15T22:30:00.000Z";
const spaces = (text: string) => text.replace(/[\u202f\u00a0]/g, " ");

afterEach(() => setMarketplace(DEFAULT_MARKETPLACE));

describe("dates on the marketplace's clock", () => {
  it("writes an instant as Melbourne's wall clock, day first, with the zone named", () => {
    expect(spaces(formatDateTime(INSTANT))).toBe("16 Jan 2026, 9:30 am AEDT");
    expect(formatDate(INSTANT)).toBe("16 Jan 2026");
    expect(spaces(formatTime(INSTANT))).toBe("9:30 am");
    expect(formatDateTime(Date.parse(INSTANT))).toBe(formatDateTime(INSTANT));
    expect(formatDateTime(null)).toBe("—");
    expect(formatDate(undefined)).toBe("—");
  });

  it("follows the marketplace's zone and locale once set", () => {
    setMarketplace({ timeZone: "Europe/Paris", locale: "fr-FR" });
    expect(marketplace()).toEqual({ timeZone: "Europe/Paris", locale: "fr-FR" });
    expect(spaces(formatDateTime(INSTANT))).toMatch(/^15 janv\. 2026,? 23:30 UTC\+1$/);
    expect(formatDate(INSTANT)).toBe("15 janv. 2026");
    expect(spaces(formatNumber(12345))).toBe("12 345");
  });

  it("keeps the defaults for a zone or locale this browser does not know", () => {
    setMarketplace({ timeZone: "Mars/Olympus_Mons", locale: "not a locale!" });
    expect(marketplace()).toEqual(DEFAULT_MARKETPLACE);
  });

  it("shows another zone's clock on request (a job scheduled in UTC), in the same format", () => {
    expect(spaces(formatDateTime(INSTANT, "UTC"))).toBe("15 Jan 2026, 10:30 pm UTC");
    expect(sameWallClock(INSTANT, "UTC", "Australia/Melbourne")).toBe(false);
    expect(sameWallClock(INSTANT, "Australia/Melbourne", "Australia/Victoria")).toBe(true);
  });

  it("counts whole days", () => {
    expect(formatRelativeDays(Date.parse(INSTANT) + 9.8 * 86_400_000, Date.parse(INSTANT))).toBe("in 10 days");
  });
});

describe("form inputs on the marketplace's clock", () => {
  it("reads and writes datetime-local values as Melbourne's wall clock", () => {
    expect(toWallClockInput(INSTANT)).toBe("2026-01-16T09:30");
    expect(fromWallClockInput("2026-01-16T09:30")).toBe(INSTANT);
    // Winter (AEST, UTC+10) as well as summer.
    expect(fromWallClockInput("2026-07-01T12:00")).toBe("2026-07-01T02:00:00.000Z");
    expect(fromWallClockInput("not a time")).toBeNull();
  });

  it("takes a date input's day as the marketplace's midnight", () => {
    expect(dayStart("2026-01-16")).toBe("2026-01-15T13:00:00.000Z");
    expect(dayStart("16/01/2026")).toBeNull();
  });
});
