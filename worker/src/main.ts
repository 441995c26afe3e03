import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import { jobCatalog } from "./registry.ts";
import { buildWorker } from "./worker.ts";

const env = loadEnv();
const logger = createLogger("worker", env.LOG_LEVEL);
// Every contract has exactly one handler, and every handler a contract, or the worker does not start.
const worker = buildWorker(env, logger, jobCatalog(env));
await worker.start();

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "finishing current jobs, then stopping");
    void worker.stop().then(() => process.exit(0));
  });
}
