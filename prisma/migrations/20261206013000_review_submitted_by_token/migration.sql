-- AlterTable
ALTER TABLE "Review" ADD COLUMN     "submittedByTokenId" UUID;

-- AddForeignKey
ALTER TABLE "Review" ADD CONSTRAINT "Review_submittedByTokenId_fkey" FOREIGN KEY ("submittedByTokenId") REFERENCES "ApiToken"("id") ON DELETE SET NULL ON UPDATE CASCADE;

