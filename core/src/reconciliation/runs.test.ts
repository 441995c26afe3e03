// The pure rules of a reconciliation run: which period it compares.
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors.ts";
import { reconciliationPeriod, SETTLE_MS } from "./runs.ts";

const now = new Date("2026-12-01T09:30:15.250Z");
const DAY = 86_400_000;

describe("reconciliationPeriod", () => {
  it("defaults to the 7 days ending before the settling window, in whole seconds", () => {
    const period = reconciliationPeriod({}, now);
    expect(period.end.toISOString()).toBe(
      new Date(Math.floor((now.getTime() - SETTLE_MS) / 1000) * 1000).toISOString(),
    );
    expect(period.end.getTime() - period.start.getTime()).toBe(7 * DAY);
  });

  it("keeps a past period as asked and clamps one that reaches into the last minutes", () => {
    const from = new Date("2026-11-01T00:00:00Z");
    const to = new Date("2026-11-08T00:00:00Z");
    expect(reconciliationPeriod({ from, to }, now)).toEqual({ start: from, end: to });
    expect(reconciliationPeriod({ from, to: now }, now).end.getTime()).toBeLessThanOrEqual(now.getTime() - SETTLE_MS);
  });

  it("refuses an end before the start, a period over a year, and one entirely within the settling window", () => {
    const refuse = (input: { from?: Date; to?: Date }, message: string) => {
      let thrown: unknown = null;
      try {
        reconciliationPeriod(input, now);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidInputError);
      expect((thrown as InvalidInputError).message).toBe(message);
    };
    refuse(
      { from: new Date("2026-11-08T00:00:00Z"), to: new Date("2026-11-01T00:00:00Z") },
      "The period must end after it starts",
    );
    refuse(
      { from: new Date("2025-01-01T00:00:00Z"), to: new Date("2026-01-03T00:00:00Z") },
      "A period can cover at most a year (366 days)",
    );
    refuse(
      { from: new Date(now.getTime() - 60_000) },
      "The period is too recent: charges from the last 10 minutes are still settling",
    );
  });
});
