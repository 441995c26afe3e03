// Fault drills, fast versions (`npm run drills` runs them too): Redis restarted and flushed,
// PostgreSQL restarted (a throwaway cluster of its own), Stripe slow / 500 / 429 with its rate
// limit on, and the SMTP and Slack receivers down for a while. Each fails if anything was lost or doubled.
import { it } from "vitest";
import {
  drillPostgresRestart,
  drillRedisRestart,
  drillSlackDown,
  drillSmtpDown,
  drillStripeFaults,
} from "../../bench/drills/services.ts";
import { drillSuite } from "../support/drills.ts";

const expectDrillPasses = drillSuite();

it("Redis restarted mid-run and flushed: reconnects, schedules restored, PostgreSQL's pending work done once", async () => {
  await expectDrillPasses((stack) => drillRedisRestart(stack));
}, 240_000);

it("Stripe slow, 500 and 429 with the 25 req/s limit: retried with backoff, one refund each", async () => {
  await expectDrillPasses((stack) => drillStripeFaults(stack, 15));
}, 240_000);

it("SMTP receiver down for a while: deliveries wait, then go out once", async () => {
  await expectDrillPasses((stack) => drillSmtpDown(stack, { realBackoff: false }));
}, 240_000);

it("Slack receiver down, then answering 500: deliveries back off and wait, then each goes out once, in order per alert", async () => {
  await expectDrillPasses((stack) => drillSlackDown(stack, { realBackoff: false }));
}, 240_000);

it("PostgreSQL restarted: readyz fails fast, typed UNAVAILABLE, no partial writes, recovers by itself", async () => {
  await expectDrillPasses(() => drillPostgresRestart());
}, 180_000);
