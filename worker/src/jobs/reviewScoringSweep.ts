// Every five minutes, and at once when the worker finds Redis emptied: pending reviews never scored
// (their score-review job lost with Redis) are queued again under submitReview's own job id, so a
// review whose job is still queued is not scored twice.
import { requeueUnscoredReviews } from "@steward/core/reviews";
import { reviewScoringSweep } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const reviewScoringSweepJob = handle(reviewScoringSweep, async ({ deps }) => {
  const swept = await requeueUnscoredReviews(deps);
  return {
    summary: swept === 0 ? "no pending review left unscored" : `${swept} unscored review(s) handed to the queue`,
    changes: { swept },
  };
});
