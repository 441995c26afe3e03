// Daily (RETENTION_CRON): removes what is past its retention, table by table, in short batches
// (core/src/retention.ts); the run's summary and changes say what went from where.
import { applyRetention, describeRetention, retentionSettings } from "@steward/core/retention";
import { dataRetention } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const dataRetentionJob = handle(dataRetention, async ({ deps }) => {
  const { db, env } = deps;
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
});
