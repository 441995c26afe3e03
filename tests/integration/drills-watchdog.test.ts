// The watchdog drill (bench/drills/watchdog.ts): the worker killed for good, then Redis down; the
// API notices and notifies Slack, PagerDuty and email itself, within the threshold.
import { afterAll, expect, inject, it } from "vitest";
import type { DrillResult } from "../../bench/drills/harness.ts";
import { printDrillTable } from "../../bench/drills/table.ts";
import { drillWatchdog } from "../../bench/drills/watchdog.ts";

const results: DrillResult[] = [];
afterAll(() => {
  printDrillTable(results);
});

it("worker killed, then Redis down: the API delivers the red alert itself within the threshold, and resolves it", async () => {
  const result = await drillWatchdog({ template: inject("templateDatabase") });
  results.push(result);
  expect(result.checks.length).toBeGreaterThan(0);
  expect(result.checks.filter((check) => !check.ok)).toEqual([]);
}, 300_000);
