// `npx tsx bench/src/summarise-runs.ts bench/results/<run>.json …`: several runs of the same
// benchmarks as one table. Each row is the run with the median ratio (medianIndex), whole, with
// the spread of its ratio over the runs: one run of a noisy benchmark (fan-out on a shared
// machine) says little, and a median of values and a median of floors need not be one run's.
import { readFileSync } from "node:fs";
import { type BenchRow, medianIndex, printTable, spread } from "./table.ts";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: summarise-runs.ts <results json> …");
  process.exit(1);
}
const runs = files.map((file) => (JSON.parse(readFileSync(file, "utf8")) as { rows: BenchRow[] }).rows);
const names = [...new Set(runs.flatMap((rows) => rows.map((row) => row.name)))];
const summary = names.map((name): BenchRow => {
  const rows = runs.flatMap((run) => run.filter((row) => row.name === name));
  const ratios = rows.map((row) => (row.floor ? row.value / row.floor : row.value));
  const middle = rows[medianIndex(ratios)]!;
  const runsNote = `median of ${rows.length} runs; ratio spread ${spread(ratios, 2, "×")}`;
  return { ...middle, note: middle.note ? `${runsNote}; ${middle.note}` : runsNote };
});
printTable(summary);
