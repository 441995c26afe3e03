// `npm run bench -- --scale small|full`: makes sure PostgreSQL and Redis are there, then runs bench/src/run.ts.
import { run, step } from "./lib/run.ts";
import { ensurePostgres, ensureRedis } from "./lib/services.ts";

step("Checking PostgreSQL and Redis");
const started = [
  ...(await ensurePostgres(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward")),
  // The load run starts the API and a worker, which need Redis.
  ...(await ensureRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0")),
];
try {
  // --expose-gc: the reconciliation benchmark measures the heap that survives a collection.
  run("npx", ["tsx", "bench/src/run.ts", ...process.argv.slice(2)], {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --expose-gc`.trim() },
  });
} finally {
  for (const service of started) service.child.kill("SIGTERM");
}
