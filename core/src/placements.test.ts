import { describe, expect, it } from "vitest";
import { estimateActivations, FEATURED_DAYS } from "./placements.ts";

const DAY = 86_400_000;
const now = new Date("2026-11-23T00:00:00Z");
const inDays = (days: number) => new Date(now.getTime() + days * DAY);

describe("queue ETA", () => {
  it("gives the k-th queued business the k-th slot to free up", () => {
    const etas = estimateActivations([inDays(10), inDays(3), inDays(20), inDays(5), inDays(8)], 3, 5, now);
    expect(etas).toEqual([inDays(3), inDays(5), inDays(8)]);
  });

  it("chains: beyond the current actives, a slot frees again FEATURED_DAYS after it was taken", () => {
    const etas = estimateActivations([inDays(1)], 2, 1, now);
    expect(etas).toEqual([inDays(1), inDays(1 + FEATURED_DAYS)]);
  });

  it("never answers a time in the past", () => {
    const [eta] = estimateActivations([inDays(-2)], 1, 1, now);
    expect(eta).toEqual(now);
  });
});
