// `npm run steward -- <command> [args]`: the operator's command line for setting up a real
// marketplace (catalog import, first administrator, …). Each command lives in its own file under
// scripts/steward/ and is listed here once.
import { step } from "./lib/run.ts";

interface Command {
  summary: string;
  run(args: readonly string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  // Lazily imported: a command loads only what it needs.
  "create-admin": () => import("./steward/create-admin.ts"),
  import: () => import("./steward/import.ts"),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? commands[name] : undefined;
if (!load) {
  console.error(name ? `Unknown command "${name}".` : "Usage: npm run steward -- <command> [args]");
  console.error("Commands:");
  for (const [commandName, loadCommand] of Object.entries(commands))
    console.error(`  ${commandName.padEnd(16)} ${(await loadCommand()).summary}`);
  process.exit(name ? 2 : 0);
}
const command = await load();
step(`steward ${name}`);
process.exit(await command.run(args));
