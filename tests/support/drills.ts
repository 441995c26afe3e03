// The fast fault drills' suite: one drill stack (own Redis, a real worker process) for a test file,
// the summary table printed at its end, and a drill's checks asserted one by one.
import { afterAll, beforeAll, expect, inject } from "vitest";
import { type DrillResult, type DrillStack, startDrillStack } from "../../bench/drills/harness.ts";
import { printDrillTable } from "../../bench/drills/table.ts";

/** Call once at the top of a test file; the function it returns runs a drill and fails on any failed check. */
export function drillSuite(): (drill: (stack: DrillStack) => Promise<DrillResult>) => Promise<void> {
  let stack: DrillStack | undefined;
  const results: DrillResult[] = [];
  beforeAll(async () => {
    stack = await startDrillStack({ template: inject("templateDatabase") });
    await stack.worker.start();
  }, 90_000);
  afterAll(async () => {
    printDrillTable(results);
    await stack?.stop();
  });
  return async (drill) => {
    if (!stack) throw new Error("the drill stack did not start");
    const result = await drill(stack);
    results.push(result);
    expect(result.checks.length).toBeGreaterThan(0);
    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
  };
}
