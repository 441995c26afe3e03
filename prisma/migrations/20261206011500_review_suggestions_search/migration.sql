-- Suggested rejection reasons (from the classifier's signals) on reviews and on decisions, and
-- trigram indexes for the queue's text search over review bodies and business names.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- AlterTable
ALTER TABLE "Review" ADD COLUMN "suggestedReason" "RejectionReason",
ADD COLUMN "suggestedSignals" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "ReviewDecision" ADD COLUMN "suggestedReason" "RejectionReason";

-- CreateIndex
CREATE INDEX "Review_body_trgm_idx" ON "Review" USING GIN ("body" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Business_name_trgm_idx" ON "Business" USING GIN ("name" gin_trgm_ops);
