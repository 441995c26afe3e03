// Daily (RETENTION_CRON): removes what is past its retention, table by table, in short batches
// (core/src/retention.ts); the run's summary and changes say what went from where.
import { applyRetention, describeRetention, retentionSettings } from "@steward/core/retention";
import { z } from "zod";
import { defineJob } from "./definition.ts";

export const dataRetentionJob = defineJob({
  name: "data-retention",
  description:
    "Deletes job runs, sessions, login attempts, outbox messages, search events and health results past their retention, and clears old webhook payloads.",
  schedule: { pattern: process.env.RETENTION_CRON ?? "15 3 * * *", tz: "UTC", everyMinutes: 1440 },
  payload: z.object({}).passthrough(),
  async handler({ db, env }) {
    const results = await applyRetention(db, retentionSettings(env), { batchSize: env.RETENTION_BATCH_SIZE });
    return {
      summary: describeRetention(results),
      changes: results.map(({ table, removes, keptDays, removed, batches, longestBatchMs, more }) => ({
        table,
        removes,
        keptDays,
        removed,
        batches,
        longestBatchMs,
        more,
      })),
    };
  },
});
