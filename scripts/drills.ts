// `npm run drills [-- --kills N] [-- --only refund,redis]`: makes sure PostgreSQL is there and the
// code generated, then runs every fault drill with the full counts (bench/drills/main.ts). The
// drills start their own Redis and their own PostgreSQL cluster for anything they restart.
import { generate } from "./lib/database.ts";
import { run, step } from "./lib/run.ts";
import { ensurePostgres } from "./lib/services.ts";

step("Checking PostgreSQL");
const started = await ensurePostgres(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward");
try {
  step("Generating code");
  generate();
  step("Running the fault drills");
  run("npx", ["tsx", "bench/drills/main.ts", ...process.argv.slice(2)]);
} finally {
  for (const service of started) service.child.kill("SIGTERM");
}
