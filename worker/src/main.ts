import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import { jobCatalog } from "./registry.ts";
import { buildWorker } from "./worker.ts";

const env = loadEnv();
const logger = createLogger("worker", env.LOG_LEVEL);
const worker = buildWorker(env, logger, jobCatalog);
await worker.start();

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "finishing current jobs, then stopping");
    void worker.stop().then(() => process.exit(0));
  });
}
