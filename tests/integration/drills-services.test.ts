// Fault drills, fast versions (`npm run drills` runs them too): Redis restarted and flushed,
// PostgreSQL restarted (a throwaway cluster of its own), Stripe slow / 500 / 429 with its rate
// limit on, and the SMTP and Slack receivers down for a while. Each fails if anything was lost or doubled.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { type DrillResult, type DrillStack, startDrillStack } from "../../bench/drills/harness.ts";
import {
  drillPostgresRestart,
  drillRedisRestart,
  drillSlackDown,
  drillSmtpDown,
  drillStripeFaults,
} from "../../bench/drills/services.ts";
import { printDrillTable } from "../../bench/drills/table.ts";

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

it("Redis restarted mid-run and flushed: reconnects, schedules restored, PostgreSQL's pending work done once", async () => {
  expectPassed(await drillRedisRestart(stack));
}, 240_000);

it("Stripe slow, 500 and 429 with the 25 req/s limit: retried with backoff, one refund each", async () => {
  expectPassed(await drillStripeFaults(stack, 15));
}, 240_000);

it("SMTP receiver down for a while: deliveries wait, then go out once", async () => {
  expectPassed(await drillSmtpDown(stack, { realBackoff: false }));
}, 240_000);

it("Slack receiver down, then answering 500: deliveries back off and wait, then each goes out once, in order per alert", async () => {
  expectPassed(await drillSlackDown(stack, { realBackoff: false }));
}, 240_000);

it("PostgreSQL restarted: readyz fails fast, typed UNAVAILABLE, no partial writes, recovers by itself", async () => {
  expectPassed(await drillPostgresRestart());
}, 180_000);
