-- AlterTable
ALTER TABLE "FeatureFlag" ADD COLUMN     "proposalReason" TEXT,
ADD COLUMN     "proposedAt" TIMESTAMP(3),
ADD COLUMN     "proposedValue" TEXT;

-- AlterTable
ALTER TABLE "HealthCheckResult" ADD COLUMN     "status" "Severity" NOT NULL DEFAULT 'GREEN';

-- CreateTable
CREATE TABLE "FeatureFlagChange" (
    "id" UUID NOT NULL,
    "flagKey" TEXT NOT NULL,
    "fromValue" TEXT NOT NULL,
    "toValue" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "actorKind" "ActorKind" NOT NULL,
    "actorId" TEXT,
    "actorLabel" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FeatureFlagChange_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "FeatureFlagChange_flagKey_createdAt_idx" ON "FeatureFlagChange"("flagKey", "createdAt");

-- AddForeignKey
ALTER TABLE "FeatureFlagChange" ADD CONSTRAINT "FeatureFlagChange_flagKey_fkey" FOREIGN KEY ("flagKey") REFERENCES "FeatureFlag"("key") ON DELETE RESTRICT ON UPDATE CASCADE;

