// Fault drills, fast versions (3 kills each; `npm run drills` runs 20): the worker, a real
// process, SIGKILLed in the middle of a refund, an expiry-and-promotion run, an outbox delivery
// and a reconciliation page. Each drill fails if anything was lost or any effect happened twice.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { type DrillResult, type DrillStack, startDrillStack } from "../../bench/drills/harness.ts";
import {
  drillKillDuringExpiry,
  drillKillDuringOutbox,
  drillKillDuringReconciliation,
  drillKillDuringRefunds,
} from "../../bench/drills/kills.ts";
import { printDrillTable } from "../../bench/drills/table.ts";

const KILLS = 3;
let stack: DrillStack;
const results: DrillResult[] = [];

beforeAll(async () => {
  stack = await startDrillStack({ template: inject("templateDatabase") });
  await stack.worker.start();
}, 90_000);
afterAll(async () => {
  printDrillTable(results);
  await stack?.stop();
});

function expectPassed(result: DrillResult): void {
  results.push(result);
  expect(result.checks.length).toBeGreaterThan(0);
  expect(result.checks.filter((check) => !check.ok)).toEqual([]);
}

it("a refund in flight at a slow Stripe: one refund per request, every job completes", async () => {
  expectPassed(await drillKillDuringRefunds(stack, KILLS));
}, 240_000);

it("an expiry-and-promotion run: no slot double-booked, nothing lost, FIFO kept", async () => {
  expectPassed(await drillKillDuringExpiry(stack, KILLS, 100));
}, 240_000);

it("an outbox delivery: every email delivered, once", async () => {
  expectPassed(await drillKillDuringOutbox(stack, KILLS, 10));
}, 240_000);

it("a reconciliation page: every killed run resumed and completed, each discrepancy recorded once", async () => {
  expectPassed(await drillKillDuringReconciliation(stack, KILLS, 350));
}, 240_000);
