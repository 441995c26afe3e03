// Proves the scheduling path end to end: a run is recorded every minute and shows up live on the
// dashboard's Jobs page. Also measures how long a round trip to PostgreSQL takes from the worker.
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const heartbeatJob = defineJob({
  name: "heartbeat",
  description: "Records that the worker is alive and how fast PostgreSQL answers.",
  schedule: { pattern: process.env.HEARTBEAT_CRON ?? "* * * * *", tz: "UTC", everyMinutes: 1 },
  payload: z.object({}).passthrough(),
  async handler({ db }) {
    const started = performance.now();
    await db.$queryRaw`SELECT 1`;
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return { summary: `worker alive; PostgreSQL answered in ${latencyMs} ms`, changes: { latencyMs } };
  },
});
