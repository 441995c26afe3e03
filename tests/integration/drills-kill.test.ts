// Fault drills, fast versions (3 kills each; `npm run drills` runs 20): the worker, a real
// process, SIGKILLed in the middle of a refund, an expiry-and-promotion run, an outbox delivery
// and a reconciliation page. Each drill fails if anything was lost or any effect happened twice.
import { it } from "vitest";
import {
  drillKillDuringExpiry,
  drillKillDuringOutbox,
  drillKillDuringReconciliation,
  drillKillDuringRefunds,
} from "../../bench/drills/kills.ts";
import { drillSuite } from "../support/drills.ts";

const KILLS = 3;
const expectDrillPasses = drillSuite();

it("a refund in flight at a slow Stripe: one refund per request, every job completes", async () => {
  await expectDrillPasses((stack) => drillKillDuringRefunds(stack, KILLS));
}, 240_000);

it("an expiry-and-promotion run: no slot double-booked, nothing lost, FIFO kept", async () => {
  await expectDrillPasses((stack) => drillKillDuringExpiry(stack, KILLS, 100));
}, 240_000);

it("an outbox delivery: every email delivered, once", async () => {
  await expectDrillPasses((stack) => drillKillDuringOutbox(stack, KILLS, 10));
}, 240_000);

it("a reconciliation page: every killed run resumed and completed, each discrepancy recorded once", async () => {
  await expectDrillPasses((stack) => drillKillDuringReconciliation(stack, KILLS, 350));
}, 240_000);
