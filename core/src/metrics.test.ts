// Period edges of the revenue figures, on plain per-day series (no database).
import { describe, expect, it } from "vitest";
import { dayIn } from "./calendar.ts";
import { revenueFor } from "./metrics.ts";
import { sortTasks, type PendingTask } from "./overview.ts";

const series = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe("revenueFor", () => {
  it("compares 31 March with the whole of February (the same days, clamped to its length)", () => {
    const revenue = revenueFor("aud", series({ "2026-02-28": 100, "2026-03-01": 50, "2026-03-31": 50 }), "2026-03-31");
    expect(revenue.mtd).toMatchObject({ from: "2026-03-01", to: "2026-03-31", netCents: 100, previousNetCents: 100 });
    expect(revenue.mtd.change).toBe(0);
    expect(revenue.mtd.projectedMonthEndCents).toBe(100);
  });

  it("on a Monday compares the day with last Monday only", () => {
    const revenue = revenueFor("aud", series({ "2026-03-09": 40, "2026-03-10": 999, "2026-03-16": 60 }), "2026-03-16");
    expect(revenue.wtd).toEqual({
      from: "2026-03-16",
      to: "2026-03-16",
      netCents: 60,
      previousNetCents: 40,
      change: 0.5,
    });
  });

  it("keeps 365 days in LTM, across a year boundary", () => {
    const revenue = revenueFor("aud", series({ "2025-01-05": 7, "2025-01-06": 11, "2026-01-05": 13 }), "2026-01-05");
    expect(revenue.ltm).toMatchObject({ from: "2025-01-06", netCents: 24, previousNetCents: 7 });
  });
});

describe("dayIn", () => {
  it("puts an instant on the marketplace's calendar day, daylight saving included", () => {
    expect(dayIn(new Date("2026-03-31T13:30:00Z"), "Australia/Melbourne")).toBe("2026-04-01"); // UTC+11
    expect(dayIn(new Date("2026-06-30T13:30:00Z"), "Australia/Melbourne")).toBe("2026-06-30"); // UTC+10
    expect(dayIn(new Date("2026-06-30T14:00:00Z"), "Australia/Melbourne")).toBe("2026-07-01");
  });
});

describe("sortTasks", () => {
  it("puts work that is waiting first, by priority", () => {
    const task = (kind: PendingTask["kind"], priority: number, count: number): PendingTask => ({
      kind,
      label: kind,
      priority,
      count,
      minutesEach: 1,
      estimatedMinutes: count,
      href: "/",
    });
    const sorted = sortTasks([task("REVIEWS", 4, 9), task("REFUNDS", 1, 0), task("DISPUTES", 3, 1)]);
    expect(sorted.map((t) => t.kind)).toEqual(["DISPUTES", "REVIEWS", "REFUNDS"]);
  });
});
