#!/usr/bin/env node
// Entry point of `npm run demo` / `npm test` / `npm run generate` on a fresh clone: installs
// dependencies when they are missing or stale, then hands over to the TypeScript script.
// Plain JavaScript on purpose: it must run before anything is installed.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [command = "demo", ...rest] = process.argv.slice(2);

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Steward needs Node.js 20.19 or newer (this is ${process.versions.node}).`);
  process.exit(1);
}

const installedMarker = join(root, "node_modules", ".package-lock.json");
const lockFile = join(root, "package-lock.json");
const stale =
  !existsSync(installedMarker) ||
  (existsSync(lockFile) && statSync(lockFile).mtimeMs > statSync(installedMarker).mtimeMs);
if (stale) {
  console.log("› Installing dependencies…");
  // npm install, not npm ci: the lock file omits other platforms' optional binaries and npm ci refuses it.
  const result = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const tsx = join(root, "node_modules", ".bin", "tsx");
function runScript(name, args) {
  const result = spawnSync(tsx, [join(root, "scripts", `${name}.ts`), ...args], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// Generated code (the Prisma client above all) must exist before any script that imports it is
// loaded, so it is generated in its own process first: on a fresh clone there is none yet.
if (command !== "generate") runScript("generate", []);
runScript(command, rest);
process.exit(0);
