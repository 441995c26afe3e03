// One printed table (and its JSON) for every benchmark: each figure beside its floor and the ratio.
import { mkdirSync, writeFileSync } from "node:fs";

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  floor?: number;
  floorName?: string;
  note?: string;
}

/** The index of the median value (the lower middle for an even count): the round to report whole. */
export function medianIndex(values: readonly number[]): number {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  return order[Math.floor((order.length - 1) / 2)]!.index;
}

/** "min–max" of repeated figures, for a note beside their median. */
export function spread(values: readonly number[], digits = 2, unit = ""): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}${unit}`;
}

export function printTable(rows: readonly BenchRow[]): void {
  const format = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
  console.log("\n| benchmark | value | floor (same run) | ratio | note |\n|---|---|---|---|---|");
  for (const row of rows) {
    const floor = row.floor !== undefined ? `${format(row.floor)} ${row.unit} (${row.floorName ?? "floor"})` : "";
    const ratio = row.floor ? `${(row.value / row.floor).toFixed(2)}×` : "";
    console.log(`| ${row.name} | ${format(row.value)} ${row.unit} | ${floor} | ${ratio} | ${row.note ?? ""} |`);
  }
}

export function writeResults(scale: string, rows: readonly BenchRow[]): string {
  const directory = new URL("../results/", import.meta.url);
  mkdirSync(directory, { recursive: true });
  const file = new URL(`${scale}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, directory);
  writeFileSync(file, `${JSON.stringify({ scale, at: new Date().toISOString(), rows }, null, 2)}\n`);
  return file.pathname;
}
