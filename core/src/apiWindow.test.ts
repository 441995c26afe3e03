import { describe, expect, it } from "vitest";
import { percentile, RequestWindow } from "./apiWindow.ts";

describe("RequestWindow", () => {
  it("summarises only the last 5 minutes: count, errors and nearest-rank p95", () => {
    const window = new RequestWindow();
    const start = 1_000_000;
    window.record(5000, true, start); // older than 5 minutes at the end: dropped
    for (let i = 1; i <= 100; i++) window.record(i * 10, i % 50 === 0, start + 60_000 + i);
    const summary = window.summary(start + 5 * 60_000 + 10);
    expect(summary).toEqual({ requests: 100, errors: 2, p95Ms: 950 });
  });

  it("is empty without requests", () => {
    expect(new RequestWindow().summary()).toEqual({ requests: 0, errors: 0, p95Ms: null });
    expect(percentile([], 0.95)).toBeNull();
    expect(percentile([7], 0.95)).toBe(7);
  });
});
