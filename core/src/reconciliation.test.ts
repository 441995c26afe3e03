// The pure rules of reconciliation: which period a run compares, and how evidence is written as CSV.
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "./errors.ts";
import { csvLine, reconciliationPeriod, SETTLE_MS, stagedLine } from "./reconciliation.ts";
import type { GatewayCharge } from "./ports/payments.ts";

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

describe("csvLine", () => {
  it("quotes commas, quotes and line breaks, and defuses spreadsheet formulas", () => {
    expect(csvLine(["a", 2200, null, 'say "hi", then', "two\nlines"])).toBe(
      'a,2200,,"say ""hi"", then","two\nlines"\r\n',
    );
    expect(csvLine(["=HYPERLINK(1)", "+1", "-2", "@x"])).toBe("'=HYPERLINK(1),'+1,'-2,'@x\r\n");
  });
});

describe("stagedLine (the staging COPY's text format)", () => {
  const charge = (overrides: Partial<GatewayCharge>): GatewayCharge => ({
    id: "ch_1",
    amount: 2200,
    amount_refunded: 500,
    currency: "AUD",
    status: "succeeded",
    refunded: false,
    created: 1_764_581_415,
    metadata: null,
    ...overrides,
  });
  const runId = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

  it("writes one tab-separated line per charge: UTC time, t/f booleans, lower-case currency", () => {
    expect(stagedLine(runId, charge({}), true)).toBe(
      `${runId}\tch_1\t2200\t500\taud\tsucceeded\tf\t2025-12-01T09:30:15.000Z\tt\n`,
    );
  });

  it("escapes backslash, tab, newline and carriage return, so a value never shifts a column or a row", () => {
    const line = stagedLine(runId, charge({ id: "ch_a\tb\\c\nd\re", refunded: true }), false);
    expect(line.split("\t")[1]).toBe("ch_a\\tb\\\\c\\nd\\re");
    expect(line.split("\t")).toHaveLength(9);
    expect(line.slice(0, -1)).not.toMatch(/[\n\r]/);
  });

  it("refuses an amount that is not an integer rather than staging a wrong one", () => {
    expect(() => stagedLine(runId, charge({ amount: 12.5 }), true)).toThrow(/amount is not an integer/);
  });
});
