import { loadEnv } from "@steward/core/env";
import { createLogger } from "@steward/core/logger";
import { buildApp } from "./app.ts";

const env = loadEnv();
const logger = createLogger("api", env.LOG_LEVEL);
const app = buildApp(env, logger);
const url = await app.start();
logger.info({ url }, "Steward API listening");

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "shutting down");
    void app.stop().then(() => process.exit(0));
  });
}
