// Every five minutes, and at once when the worker finds Redis emptied: pending reviews never scored
// (their score-review job lost with Redis) are queued again under submitReview's own job id, so a
// review whose job is still queued is not scored twice.
import { REVIEW_SCORING_SWEEP_GRACE_MS, sweepUnscoredReviews } from "@steward/core/reviews";
import { z } from "zod";
import { scoreReviewJobFor } from "../queue.ts";
import { defineJob } from "./definition.ts";

export const reviewScoringSweepJob = defineJob({
  name: "review-scoring-sweep",
  description: "Re-queues the scoring of pending reviews whose job Redis lost (same job id: never doubled).",
  schedule: { pattern: "*/5 * * * *", tz: "UTC" },
  runOnRestore: true,
  payload: z.object({}).passthrough(),
  async handler({ db, queue }) {
    const swept = await sweepUnscoredReviews(
      db,
      async (ids) => void (await queue.addBulk(ids.map(scoreReviewJobFor))),
      {
        olderThanMs: REVIEW_SCORING_SWEEP_GRACE_MS,
      },
    );
    return {
      summary: swept === 0 ? "no pending review left unscored" : `${swept} unscored review(s) handed to the queue`,
      changes: { swept },
    };
  },
});
