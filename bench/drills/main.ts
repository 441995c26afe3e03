// `npm run drills [-- --kills N] [-- --only name]`: every fault drill with the full counts (20 kills
// each), then one summary table. Exits non-zero if any check failed. Starts its own Redis, its own
// PostgreSQL cluster (for the restart drill) and a database on DATABASE_URL for the rest.
import { type DrillResult, startDrillStack } from "./harness.ts";
import {
  drillKillDuringExpiry,
  drillKillDuringOutbox,
  drillKillDuringReconciliation,
  drillKillDuringRefunds,
} from "./kills.ts";
import {
  drillPostgresRestart,
  drillRedisRestart,
  drillSlackDown,
  drillSmtpDown,
  drillStripeFaults,
} from "./services.ts";
import { printDrillTable } from "./table.ts";

const argument = (name: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const kills = Number(argument("--kills") ?? 20);
const only = argument("--only");

const stack = await startDrillStack();
const results: DrillResult[] = [];
const drills: [string, () => Promise<DrillResult> | DrillResult][] = [
  ["refund", () => drillKillDuringRefunds(stack, kills)],
  ["expiry", () => drillKillDuringExpiry(stack, kills)],
  ["outbox", () => drillKillDuringOutbox(stack, kills)],
  ["reconciliation", () => drillKillDuringReconciliation(stack, kills)],
  ["redis", () => drillRedisRestart(stack)],
  ["stripe", () => drillStripeFaults(stack)],
  ["smtp", () => drillSmtpDown(stack, { realBackoff: true })],
  ["slack", () => drillSlackDown(stack, { realBackoff: true })],
  ["postgres", () => drillPostgresRestart()],
];
try {
  await stack.worker.start();
  for (const [name, drill] of drills) {
    if (only && !only.split(",").includes(name)) continue;
    console.log(`› drill: ${name}`);
    try {
      results.push(await drill());
    } catch (error) {
      results.push({
        name,
        runs: "-",
        checks: [
          { label: "ran to the end", ok: false, detail: error instanceof Error ? error.message : String(error) },
        ],
        durationMs: 0,
        figures: stack.worker.tail().split("\n").slice(-3).join(" / "),
      });
    }
  }
} finally {
  await stack.stop();
}
process.exit(printDrillTable(results) ? 0 : 1);
