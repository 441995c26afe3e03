-- AlterTable
ALTER TABLE "CheckupReport" ADD COLUMN     "durationMs" INTEGER,
ADD COLUMN     "summary" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "triggeredById" UUID;

-- AlterTable
ALTER TABLE "SearchEvent" ADD COLUMN     "apiTokenId" UUID;

-- CreateTable
CREATE TABLE "RevenueDaily" (
    "day" DATE NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "payments" INTEGER NOT NULL,
    "refunded" INTEGER NOT NULL,
    "grossCents" BIGINT NOT NULL,
    "refundedCents" BIGINT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RevenueDaily_pkey" PRIMARY KEY ("day","currency")
);

-- CreateTable
CREATE TABLE "SearchDaily" (
    "day" DATE NOT NULL,
    "searches" INTEGER NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SearchDaily_pkey" PRIMARY KEY ("day")
);

-- CreateTable
CREATE TABLE "MetricsSnapshot" (
    "key" TEXT NOT NULL,
    "metrics" JSONB NOT NULL,
    "watermark" TIMESTAMP(3) NOT NULL,
    "computedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MetricsSnapshot_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "Payment_updatedAt_idx" ON "Payment"("updatedAt");

-- CreateIndex
CREATE INDEX "ReviewScore_classifier_createdAt_idx" ON "ReviewScore"("classifier", "createdAt");

-- CreateIndex
CREATE INDEX "SearchEvent_apiTokenId_occurredAt_idx" ON "SearchEvent"("apiTokenId", "occurredAt");
