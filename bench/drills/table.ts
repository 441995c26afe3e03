// The drills' summary: one row per drill (passed, failed or pending), then every failed check.
import type { DrillResult } from "./harness.ts";

export function printDrillTable(results: readonly DrillResult[]): boolean {
  console.log("\n| drill | runs | result | checks | figures | time |\n|---|---|---|---|---|---|");
  for (const result of results) {
    const failed = result.checks.filter((check) => !check.ok).length;
    const status = result.checks.length === 0 ? "PENDING" : failed === 0 ? "PASS" : `FAIL (${failed})`;
    console.log(
      `| ${result.name} | ${result.runs} | ${status} | ${result.checks.length - failed}/${result.checks.length} | ${result.figures} | ${(result.durationMs / 1000).toFixed(1)} s |`,
    );
  }
  let ok = true;
  for (const result of results)
    for (const check of result.checks.filter((c) => !c.ok)) {
      ok = false;
      console.log(`FAILED ${result.name}: ${check.label} — ${check.detail}`);
    }
  return ok;
}
