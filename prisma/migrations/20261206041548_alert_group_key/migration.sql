-- AlterTable
ALTER TABLE "Alert" ADD COLUMN     "groupKey" TEXT;

-- CreateIndex
CREATE INDEX "Alert_groupKey_status_idx" ON "Alert"("groupKey", "status");
