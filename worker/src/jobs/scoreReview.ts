// Scores one submitted review (queued by submitReview with a deterministic job id).
import { currentAiMode } from "@steward/core/featureFlags";
import { scoreReview } from "@steward/core/moderation/aiProvider";
import { recordReviewScore } from "@steward/core/reviews";
import { UnrecoverableError } from "bullmq";
import { scoreReview as scoreReviewContract } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const scoreReviewJob = handle(scoreReviewContract, async ({ db, env, events }, { reviewId }) => {
  const review = await db.review.findUnique({
    where: { id: reviewId },
    select: { body: true, rating: true, aiScoredAt: true },
  });
  if (!review) throw new UnrecoverableError(`Review ${reviewId} does not exist`);
  // A redelivered job: the review has its score; don't pay the provider for another.
  if (review.aiScoredAt) return { summary: "already scored", changes: { reviewId } };
  // The AI_MODE flag (switchable by operators and the failover automation), not the env default.
  const mode = await currentAiMode(db, env);
  const score = await scoreReview(
    { mode, providerUrl: env.AI_PROVIDER_URL, timeoutMs: env.AI_TIMEOUT_MS, retries: env.AI_RETRIES },
    review,
  );
  if ((await recordReviewScore(db, events, reviewId, score.classifier, score)) === "ALREADY_SCORED")
    return { summary: "already scored (by a job delivered at the same time)", changes: { reviewId } };
  return {
    summary: `scored ${score.confidence.toFixed(3)} by ${score.classifier}`,
    changes: { reviewId, confidence: score.confidence },
  };
});
