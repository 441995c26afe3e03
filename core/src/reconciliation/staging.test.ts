// The staging COPY's text format: one charge per line, values escaped.
import { describe, expect, it } from "vitest";
import type { GatewayCharge } from "../ports/payments.ts";
import { stagedLine } from "./staging.ts";

describe("stagedLine (the staging COPY's text format)", () => {
  const charge = (overrides: Partial<GatewayCharge>): GatewayCharge =>
    ({
      id: "ch_1",
      amount: 2200,
      amount_refunded: 500,
      currency: "AUD",
      status: "succeeded",
      refunded: false,
      created: 1_764_581_415,
      ...overrides,
    }) as GatewayCharge;
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
