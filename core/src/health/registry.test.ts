// The registry is the list of checks a run stores: every check name once, in display order.
import { describe, expect, it } from "vitest";
import { checkNames } from "../alertRules.ts";
import { healthChecks } from "./registry.ts";

describe("the health check registry", () => {
  it("registers every check name once, in the order the dashboard lists them", () => {
    expect(healthChecks.map((check) => check.name)).toEqual([...checkNames]);
  });
});
