// Proves the scheduling path end to end: a run is recorded every minute and shows up live on the
// dashboard's Jobs page. Also measures how long a round trip to PostgreSQL takes from the worker.
import { heartbeat } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const heartbeatJob = handle(heartbeat, async ({ db }) => {
  const started = performance.now();
  await db.$queryRaw`SELECT 1`;
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  return { summary: `worker alive; PostgreSQL answered in ${latencyMs} ms`, changes: { latencyMs } };
});
