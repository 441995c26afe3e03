// A server under test and its load generator on separate cores: the load generator runs in its
// own process (floor/loadgen.ts) pinned to core 1, the server to core 0 by its caller, so the
// client's own work (sending, reading and parsing answers) is not charged to the server.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../scripts/lib/run.ts";
import type { LoadgenConfig, LoadgenResult } from "./floor/loadgen.ts";

/** utime + stime of a process, in ms (Linux /proc; fields 14 and 15, in clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Two cores and util-linux's taskset: the server gets core 0, the load generator core 1. */
export const twoCores = cpus().length >= 2 && spawnSync("taskset", ["-V"]).status === 0;

export function runLoadgen(config: LoadgenConfig, dir: string): Promise<LoadgenResult> {
  const file = join(dir, `loadgen-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const args = ["--import", "tsx", "bench/src/floor/loadgen.ts", file];
  const child = twoCores
    ? spawn("taskset", ["-c", "1", process.execPath, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] })
    : spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      rmSync(file, { force: true });
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      resolve(JSON.parse(output.trim().split("\n").at(-1)!) as LoadgenResult);
    });
  });
}
