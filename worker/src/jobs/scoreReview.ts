// Scores one submitted review (queued by submitReview with a deterministic job id).
import { NotFoundError } from "@steward/core/errors";
import { scoreReviewOnce } from "@steward/core/reviews";
import { UnrecoverableError } from "bullmq";
import { scoreReview } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const scoreReviewJob = handle(scoreReview, async ({ deps }, { reviewId }) => {
  try {
    return await scoreReviewOnce(deps, reviewId);
  } catch (error) {
    // A review that does not exist will not appear on a retry.
    if (error instanceof NotFoundError) throw new UnrecoverableError(`Review ${reviewId} does not exist`);
    throw error;
  }
});
