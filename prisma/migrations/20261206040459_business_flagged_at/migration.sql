-- AlterTable
ALTER TABLE "Business" ADD COLUMN     "flaggedAt" TIMESTAMP(3);
-- Businesses already flagged before this column existed: date them from their listing.
UPDATE "Business" SET "flaggedAt" = "createdAt" WHERE status = 'FLAGGED_FOR_REVIEW' AND "flaggedAt" IS NULL;
