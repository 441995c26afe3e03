// `npx tsx scripts/production-runtime.ts <target> <workspace>...`: assembles what a production
// image holds, after `npm run build`: the manifests and lock file, each needed package's compiled
// dist/ (no TypeScript sources), Prisma's schema and migrations (the migrate service runs from the
// API image), and `npm ci --omit=dev --omit=peer` of the named workspaces. The Dockerfiles and
// tests/integration/production-build.test.ts both run it, so what is tested is what is shipped.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot, run } from "./lib/run.ts";

interface Manifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
}

/** Files the Prisma CLI needs for `npm run migrate:deploy -w prisma` (the config loads connection.ts). */
const MIGRATION_FILES = ["schema.prisma", "prisma.config.ts", "migrations", "src/connection.ts"];

function manifest(folder: string): Manifest {
  return JSON.parse(readFileSync(join(repoRoot, folder, "package.json"), "utf8")) as Manifest;
}

/** The named workspaces and every workspace they depend on, as folders (e.g. api → api, core, prisma, worker). */
export function workspaceClosure(names: readonly string[]): string[] {
  const folders = manifest(".").workspaces ?? [];
  const folderOf = new Map(folders.map((folder) => [manifest(folder).name, folder]));
  const needed = new Set<string>();
  const visit = (folder: string) => {
    if (needed.has(folder)) return;
    if (!folders.includes(folder)) throw new Error(`${folder} is not a workspace (${folders.join(", ")})`);
    needed.add(folder);
    for (const dependency of Object.keys(manifest(folder).dependencies ?? {})) {
      const workspace = folderOf.get(dependency);
      if (workspace) visit(workspace);
    }
  };
  names.forEach(visit);
  return [...needed].sort();
}

export function assembleRuntime(target: string, workspaces: readonly string[]): string[] {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const file of ["package.json", "package-lock.json"]) cpSync(join(repoRoot, file), join(target, file));
  const folders = workspaceClosure(workspaces);
  for (const folder of folders) {
    cpSync(join(repoRoot, folder, "package.json"), join(target, folder, "package.json"));
    const dist = join(repoRoot, folder, "dist");
    if (!existsSync(dist)) throw new Error(`${folder}/dist is missing: run \`npm run build\` first`);
    cpSync(dist, join(target, folder, "dist"), { recursive: true });
  }
  if (folders.includes("prisma"))
    for (const file of MIGRATION_FILES)
      cpSync(join(repoRoot, "prisma", file), join(target, "prisma", file), { recursive: true });
  // Optional peers stay (npm keeps them with --omit=dev); peer-only packages, such as the Prisma 7
  // client @pothos/plugin-prisma names for its types, are never loaded at run time.
  run(
    "npm",
    ["ci", "--omit=dev", "--omit=peer", "--no-audit", "--no-fund", ...workspaces.flatMap((name) => ["-w", name])],
    { cwd: target, quiet: true },
  );
  return folders;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [target, ...workspaces] = process.argv.slice(2);
  if (!target || workspaces.length === 0)
    throw new Error("usage: production-runtime.ts <target directory> <workspace folder>... (e.g. /runtime api)");
  const folders = assembleRuntime(target, workspaces);
  console.log(`› ${target}: ${folders.join(", ")} compiled, production dependencies installed`);
}
